#!/usr/bin/env bash
# Proxies in the loop (scenario proxy:, docs/proxies.md): a bounded 4 x 4
# localhost fleet on HTTP through HAProxy and through nginx, run by
# lbharness. Every request is accounted for (completed, failed or timed
# out) and logged once; the server of each record is the one that answered
# (the report's), and the requests spread over the servers as the balance
# says: round robin nearly evenly, least-connections over every server.
# A proxy without transport: http is refused; Ctrl-C in the middle of a
# run leaves no proxy process behind. Skipped (77) without haproxy and
# nginx; with only one, the other's part is skipped with a message.
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"

have() { PATH=$PATH:/usr/sbin:/usr/local/sbin:/sbin command -v "$1" > /dev/null; }
proxies=()
have haproxy && proxies+=(haproxy) || echo "SKIP part: no haproxy binary (apt-get install haproxy)"
have nginx && proxies+=(nginx) || echo "SKIP part: no nginx binary (apt-get install nginx-light)"
if ((${#proxies[@]} == 0)); then
  echo "SKIP: neither haproxy nor nginx is installed (deploy/setup.sh installs both)"
  exit 77
fi
make_out lbh-proxy

tiny_scenario "$OUT/proxied.yaml" proxied "data_frequency: 1" "transport: http"
sed -i -e 's/^servers: .*/servers: 4/' -e 's/^clients: .*/clients: 4/' \
  -e 's/^total_ticks: .*/total_ticks: 100/' "$OUT/proxied.yaml"

# A proxy needs HTTP: refused before anything starts.
tiny_scenario "$OUT/tcp.yaml" tcp
rc=0
"$H" run "$OUT/tcp.yaml" --set proxy=haproxy --out "$OUT/tcp" --quiet > "$OUT/tcp.txt" 2>&1 || rc=$?
((rc != 0)) || fail "proxy: haproxy on transport: tcp ran"
grep -q "field 'proxy': expected transport: http" "$OUT/tcp.txt" ||
  fail "the refusal does not say why: $(cat "$OUT/tcp.txt")"

# run PROXY BALANCE SPREAD: one run through the proxy; SPREAD is "even"
# (round robin: per-server counts within 1 of each other, one counter for
# every client) or "all" (every server served some).
run() {
  local proxy=$1 balance=$2 spread=$3 out=$OUT/$1-${2// /_}
  local rc try
  for try in 1 2; do
    rc=0
    rm -rf "$out"
    timeout -s KILL 120 "$H" run "$OUT/proxied.yaml" --set "proxy=$proxy" \
      --set "proxy_balance=$balance" --out "$out" --quiet > "$out.txt" 2>&1 || rc=$?
    cat "$out.txt"
    # A machine so busy that the clients woke late at tick 0 fails what
    # their connections were not up for (lbclient fails fast): once more.
    grep -q "late at tick 0" "$out.txt" || break
    echo "the fleet stalled at tick 0 (busy machine): try $try of 2"
  done
  [[ $rc -eq 0 ]] || fail "$proxy $balance: lbharness run exited $rc"
  no_strays "after $proxy $balance"
  local RUN=$out/proxied/real/run-0
  [[ -s $RUN/proxy/$proxy.cfg ]] || fail "$proxy $balance: no configuration in $RUN/proxy"
  grep -q "$balance" "$RUN/proxy/$proxy.cfg" || fail "$proxy: '$balance' not in its configuration"
  grep -q "^proxy_balance: \"$balance\"" "$RUN/scenario.yaml" || fail "the run's scenario lost the balance"
  accounted "$RUN" "$proxy $balance"
  local rows=$(($(wc -l < "$RUN/requests.csv") - 1))
  ((rows == SENT)) || fail "$proxy $balance: requests.csv has $rows records for $SENT sent"
  # Every client process was given the proxy's port for every server.
  local port
  port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$RUN/proxy/$proxy.cfg" | head -n 1)
  [[ -n $port ]] || fail "no listening port in $RUN/proxy/$proxy.cfg"
  python3 - "$RUN/requests.csv" "$spread" "$proxy $balance" <<'PY' || fail "$proxy $balance: spread"
import csv, sys
from collections import Counter
rows = list(csv.DictReader(open(sys.argv[1])))
done = [r for r in rows if r["outcome"] == "completed"]
print(sys.argv[3], "outcomes:", dict(Counter(r["outcome"] for r in rows)))
# A fleet at half load has no reason to fail a request: a failure here is
# the proxy's (502/503) or the routing's.
assert len(done) == len(rows), "requests failed or timed out"
by = Counter(r["server"] for r in done)
print(sys.argv[3], "completed per server:", dict(sorted(by.items())))
assert set(by) == {f"Server {i}" for i in range(4)}, f"not every server served: {by}"
if sys.argv[2] == "even":
    assert max(by.values()) - min(by.values()) <= 1, f"round robin not even: {by}"
PY
}

for p in "${proxies[@]}"; do
  if [[ $p == haproxy ]]; then
    run haproxy roundrobin even
    run haproxy leastconn all
    run haproxy 'random(2)' all
  else
    run nginx round_robin even
    run nginx least_conn all
    run nginx 'random two least_conn' all
  fi
done

# Ctrl-C in the middle of a run: the proxy (and nginx's worker) go too.
p=${proxies[-1]}
tiny_scenario_20ms "$OUT/long.yaml" long 1000 "transport: http"
timeout -s KILL 120 "$H" run "$OUT/long.yaml" --set "proxy=$p" --out "$OUT/long" --quiet \
  > "$OUT/long.txt" 2>&1 &
harness=$!
RUN=$OUT/long/long/real/run-0
wait_for "$p to listen" 20 test -s "$RUN/client-0.log"
pids=$(pgrep -f -- "$RUN/proxy" || true)
[[ -n $pids ]] || fail "no $p process with $RUN/proxy in its command line"
for pid in $pids; do pids="$pids $(pgrep -P "$pid" || true)"; done # nginx's worker
sleep 0.5
kill -INT "$harness"
rc=0
wait "$harness" || rc=$?
cat "$OUT/long.txt"
[[ $rc -eq 130 ]] || fail "lbharness exited $rc after SIGINT, not 130"
no_strays "after SIGINT"
for pid in $pids; do
  ! kill -0 "$pid" 2>/dev/null || fail "$p process $pid outlived lbharness: $(ps -o args= -p "$pid")"
done
accounted "$RUN"
echo "PASS"
