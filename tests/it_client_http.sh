#!/usr/bin/env bash
# transport: http end to end (lbclient's client_http against lbserver's
# --http-port): a bounded 2 x 2 localhost fleet run by lbharness, where every
# request is accounted for and every completed record carries the server's
# report as the ORCA header brought it; lbclient alone against one live
# HTTP server and one closed port, where the requests to the closed one
# fail and all are still accounted for; lbharness compare on HTTP.
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
make_out lbh-http

tiny_scenario "$OUT/tiny.yaml" tiny "data_frequency: 1"
tiny_scenario "$OUT/tiny-http.yaml" tiny "data_frequency: 1" "transport: http"

stat() { # FILE KEY: the value of KEY= in a stats file
  sed -n "s/^$2=//p" "$1"
}

# 1. lbharness run on HTTP.
rc=0
timeout -s KILL 120 "$H" run "$OUT/tiny.yaml" --set transport=http --out "$OUT/out" --quiet \
  > "$OUT/run.txt" 2>&1 || rc=$?
cat "$OUT/run.txt"
[[ $rc -eq 0 ]] || fail "lbharness run --set transport=http exited $rc"
no_strays "after the HTTP run"
RUN=$OUT/out/tiny/real/run-0
grep -q '^transport: http' "$RUN/scenario.yaml" || fail "the run's scenario is not on http"
grep -q 'http=[1-9]' "$RUN/server-0.port" || fail "server 0 was not started with its HTTP port"
accounted "$RUN"
((COMPLETED == SENT)) || fail "an idle HTTP fleet completed $COMPLETED of $SENT"
for s in "$RUN"/client-*.stats; do
  [[ $(stat "$s" failed_bad_response) == 0 ]] || fail "$s: bad HTTP responses"
  [[ $(stat "$s" stray_responses) == 0 ]] || fail "$s: responses matched to no request"
done
rows=$(($(wc -l < "$RUN/requests.csv") - 1))
[[ $rows -eq $SENT ]] || fail "requests.csv has $rows records for $SENT requests sent"
# Every completed record has the report (ORCA header) and the server's own
# times (x-lb-*-ns): utilization and rif are numbers, processing > 0.
python3 - "$RUN/requests.csv" <<'EOF' || fail "records without a server report"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
done = [r for r in rows if r["outcome"] == "completed"]
assert done, "no completed record"
for r in done:
    for k in ("server_utilization_latest", "server_requests_in_flight_latest",
              "server_queries_per_tick_mean", "processing_ticks"):
        float(r[k])  # present and a number
    assert float(r["processing_ticks"]) > 0, r
assert any(float(r["server_requests_in_flight_latest"]) > 0 for r in done)
print(f"{len(done)} completed records, each with a server report")
EOF

# 2. lbclient alone: server 0 live on HTTP, server 1's HTTP port closed.
"$B/lbserver/lbserver" --scenario "$OUT/tiny-http.yaml" --index 0 --port 0 --udp-port 0 \
  --http-port 0 --port-file "$OUT/s0.port" --max-runtime 30 2> "$OUT/s0.log" &
spid=$!
for _ in $(seq 100); do [[ -s $OUT/s0.port ]] && break; sleep 0.1; done
read -r tcp udp http < <(sed 's/[a-z]*=//g' "$OUT/s0.port")
[[ -n $http ]] || fail "no http= in $(cat "$OUT/s0.port")"
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
servers=127.0.0.1:$tcp:$udp,127.0.0.1:$tcp:$udp
start=$(($(date +%s%N) + 300000000))
common=(--scenario "$OUT/tiny-http.yaml" --clients 0:2 --servers "$servers" --max-runtime 30)
# Without the HTTP ports there is nowhere to go: a clear refusal.
rc=0
timeout -s KILL 30 "$B/lbclient/lbclient" "${common[@]}" --log "$OUT/c0.csv" 2> "$OUT/c-noports.log" ||
  rc=$?
((rc != 0)) || fail "transport: http without --http-ports ran"
grep -q -- "--http-ports" "$OUT/c-noports.log" || fail "the refusal does not name --http-ports: $(cat "$OUT/c-noports.log")"
rc=0
timeout -s KILL 60 "$B/lbclient/lbclient" "${common[@]}" --http-ports "$http,$closed" \
  --start-at-realtime-ns "$start" --log "$OUT/c.csv" --stats "$OUT/c.stats" 2> "$OUT/c.log" || rc=$?
kill "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
cat "$OUT/c.stats"
[[ -s $OUT/c.stats ]] || fail "lbclient (exit $rc) wrote no stats: $(tail -3 "$OUT/c.log")"
sent=$(stat "$OUT/c.stats" sent)
completed=$(stat "$OUT/c.stats" completed)
failed=$(stat "$OUT/c.stats" failed)
timed_out=$(stat "$OUT/c.stats" timed_out)
((sent > 0 && sent == completed + failed + timed_out)) ||
  fail "sent $sent, completed $completed + failed $failed + timed out $timed_out"
((completed > 0)) || fail "nothing completed on the live HTTP server"
((failed > 0)) || fail "nothing failed on the closed port"
[[ $(stat "$OUT/c.stats" failed_server_down) == "$failed" ]] ||
  fail "the failures are not all the closed server's"
python3 - "$OUT/c.csv" <<'EOF' || fail "per-server outcomes"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {}
for r in rows:
    by.setdefault((r["server"], r["outcome"]), 0)
    by[(r["server"], r["outcome"])] += 1
assert set(o for s, o in by if s == "Server 1") == {"failed"}, by
assert set(o for s, o in by if s == "Server 0") == {"completed"}, by
print(by)
EOF
no_strays "after lbclient alone"

# 3. compare on HTTP: the simulator and the fleet, a verdict.
rc=0
timeout -s KILL 120 "$H" compare "$OUT/tiny-http.yaml" --out "$OUT/cmp" --quiet > "$OUT/cmp.txt" 2>&1 ||
  rc=$?
cat "$OUT/cmp.txt"
[[ $rc -eq 0 ]] || fail "lbharness compare on http exited $rc"
grep -Eq '^tiny +(holds|undecided|does not hold|too few runs|not judged) ' "$OUT/cmp.txt" ||
  fail "no verdict line for tiny"
no_strays "after compare"
echo "OK"
