#!/usr/bin/env bash
# lbclient on loopback against real lbservers (ports from --port-file):
#  1. two lbclients, two lbservers; server 1 is killed while the clients run
#     and restarted on the same ports: every request sent is accounted for
#     (completed + failed + timed_out == sent, in --stats and in the log's
#     rows), the killed server's requests fail, and the clients reconnect and
#     complete requests on it again;
#  2. SIGTERM in the middle of a long run: exit 0, arrivals stop, and the
#     log holds one row per request sent;
#  3. an oracle picker is refused without --board, and runs with the
#     servers' board;
#  4. the same over UDP (padded requests, one datagram each); then with
#     server 1 killed: its requests fail (the ICMP port unreachable takes
#     the "connection" down), none times out, server 0's all complete;
#  5. response_hold: with `server` (the default) the servers hold every
#     response for its receive delay (their --stats count one hold per
#     request completed), with `client` they hold none.
# Waits are for conditions (files, log lines, exits), bounded by timeouts.
set -euo pipefail
B=${LB_BINARY_DIR:?LB_BINARY_DIR must point at the build tree}
SRV=$B/lbserver/lbserver
CLI=$B/lbclient/lbclient
for bin in "$SRV" "$CLI"; do
  [[ -x $bin ]] || { echo "FAIL: $bin is not built"; exit 1; }
done
OUT=$(mktemp -d /tmp/lbclient-it.XXXXXX)
PIDS=()
BOARD=lbclient-it-$$
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$OUT"
  rm -f "/dev/shm/$BOARD"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$OUT"/*.err; do [[ -f $f ]] && { echo "--- $f"; tail -20 "$f"; }; done
  exit 1
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
  local what=$1 secs=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < end)) || fail "timed out waiting for $what"
    sleep 0.02
  done
}

start_server() { # index [tcp udp [more options]]
  local i=$1
  rm -f "$OUT/port$i"
  local extra=()
  [[ $# -ge 3 && -n $2 ]] && extra=(--port "$2" --udp-port "$3")
  [[ $# -ge 4 ]] && extra+=("${@:4}")
  "$SRV" --scenario "$OUT/s.yaml" --index "$i" --port-file "$OUT/port$i" --threads 20 \
    --max-runtime 60 "${extra[@]}" 2>> "$OUT/server$i.err" &
  SERVER_PID[$i]=$!
  PIDS+=($!)
  wait_for "server $i's port file" 20 test -s "$OUT/port$i"
}

# wait_line WHAT PID FILE PATTERN: waits for PATTERN in FILE while PID lives.
wait_line() {
  local what=$1 pid=$2 file=$3 pattern=$4
  local end=$((SECONDS + 20))
  until grep -q -- "$pattern" "$file"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      grep -q -- "$pattern" "$file" && return 0
      local rc=0
      wait "$pid" || rc=$?
      fail "waiting for $what: process $pid exited with status $rc"
    fi
    ((SECONDS < end)) || fail "timed out waiting for $what"
    sleep 0.02
  done
}

port_of() { sed -n "s/.*$2=\([0-9]*\).*/\1/p" "$OUT/port$1"; }

stat_of() { sed -n "s/^$2=//p" "$1"; }

# check_accounting STATS LOG [MIN_SENT]: every request sent is in the log
# and ended exactly once.
check_accounting() {
  local stats=$1 log=$2 min_sent=${3:-1}
  local s c f t rows
  s=$(stat_of "$stats" sent); c=$(stat_of "$stats" completed)
  f=$(stat_of "$stats" failed); t=$(stat_of "$stats" timed_out)
  [[ -n $s && -n $c && -n $f && -n $t ]] || fail "$stats lacks the counts"
  ((s >= min_sent)) || fail "$stats: only $s requests were sent"
  ((c + f + t == s)) || fail "$stats: completed $c + failed $f + timed_out $t != sent $s"
  local causes=0 k
  for k in rejected failed_connection_lost failed_server_down failed_send failed_probes \
    failed_other failed_bad_response; do
    causes=$((causes + $(stat_of "$stats" $k)))
  done
  ((causes == f)) || fail "$stats: failures by cause sum to $causes, not failed $f"
  rows=$(($(wc -l < "$log") - 1))
  ((rows == s)) || fail "$log has $rows rows for $s requests sent"
  local col
  col=$(head -1 "$log" | tr ',' '\n' | grep -nx outcome | cut -d: -f1)
  [[ -n $col ]] || fail "$log has no outcome column"
  local lc lf lt
  lc=$(tail -n +2 "$log" | cut -d, -f"$col" | grep -cx completed || true)
  lf=$(tail -n +2 "$log" | cut -d, -f"$col" | grep -cx failed || true)
  lt=$(tail -n +2 "$log" | cut -d, -f"$col" | grep -cx timed_out || true)
  ((lc == c && lf == f && lt == t)) ||
    fail "$log outcomes ($lc/$lf/$lt) differ from $stats ($c/$f/$t)"
}

cat > "$OUT/s.yaml" <<YAML
name: client-loopback
picker: random
servers: 2
clients: 2
subset_size: 0
tick: 2ms
total_ticks: 3000
mean_requests_per_server_per_tick: 1
mean_processing_time: 2
mean_threads: 20
max_cooldown: 200
seed: 11
YAML

# ---- 1. two clients, a server killed and restarted ----
declare -a SERVER_PID
start_server 0
start_server 1
TCP1=$(port_of 1 tcp); UDP1=$(port_of 1 udp)
SERVERS="127.0.0.1:$(port_of 0 tcp):$(port_of 0 udp),127.0.0.1:$TCP1:$UDP1"
# --full-speed (the benchmarks' path): every request answered, pipelined too.
for p in 1 4; do
  "$CLI" --full-speed --servers "$SERVERS" --connections 3 --pipeline "$p" --requests 600 \
    --max-runtime 30 > "$OUT/fs$p.out" 2> "$OUT/fs$p.err" || fail "--full-speed --pipeline $p: $(cat "$OUT/fs$p.err")"
  grep -q 'completed=600 failed=0' "$OUT/fs$p.out" ||
    fail "--full-speed --pipeline $p: not every request answered: $(cat "$OUT/fs$p.out")"
done
declare -a CPID
for c in 0 1; do
  "$CLI" --scenario "$OUT/s.yaml" --clients "$c:1" --servers "$SERVERS" --log "$OUT/c$c.csv" \
    --stats "$OUT/c$c.stats" --max-runtime 60 > "$OUT/c$c.out" 2> "$OUT/c$c.err" &
  CPID[$c]=$!
  PIDS+=($!)
done
for c in 0 1; do wait_line "client $c to start" "${CPID[$c]}" "$OUT/c$c.err" "tick 0"; done
kill -9 "${SERVER_PID[1]}"
wait "${SERVER_PID[1]}" 2>/dev/null || true
for c in 0 1; do
  wait_line "client $c to see server 1 go" "${CPID[$c]}" "$OUT/c$c.err" "server 1: connection lost"
done
start_server 1 "$TCP1" "$UDP1"
for c in 0 1; do
  wait_line "client $c to reconnect" "${CPID[$c]}" "$OUT/c$c.err" "server 1: reconnected"
done
for c in 0 1; do
  rc=0
  wait "${CPID[$c]}" || rc=$?
  ((rc == 0)) || fail "client $c exited $rc"
  check_accounting "$OUT/c$c.stats" "$OUT/c$c.csv"
  grep -q "sent=" "$OUT/c$c.out" || fail "client $c printed no counts line"
  (($(stat_of "$OUT/c$c.stats" reconnects) >= 1)) || fail "client $c counted no reconnect"
done
# The killed server's requests failed, and requests completed on it again
# after the failures (the clients reconnected and used it).
cat "$OUT/c0.csv" > "$OUT/all.csv"
tail -n +2 "$OUT/c1.csv" >> "$OUT/all.csv"
python3 - "$OUT/all.csv" <<'PY' || fail "failures and recovery on server 1 not as expected"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
failed = [float(r["started_on_tick"]) for r in rows
          if r["server"] == "Server 1" and r["outcome"] == "failed"]
assert failed, "no failed request on the killed server"
after = [r for r in rows if r["server"] == "Server 1" and r["outcome"] == "completed"
         and float(r["started_on_tick"]) > max(failed)]
assert after, "nothing completed on server 1 after its failures"
bad = [r for r in rows if r["server"] == "Server 0" and r["outcome"] != "completed"]
assert not bad, f"{len(bad)} requests to the healthy server did not complete"
print(f"server 1: {len(failed)} failed, {len(after)} completed after the restart")
PY

# ---- 2. SIGTERM flushes the log ----
sed -i 's/^total_ticks: .*/total_ticks: 100000/' "$OUT/s.yaml"
"$CLI" --scenario "$OUT/s.yaml" --clients 0:2 --servers "$SERVERS" --log "$OUT/t.csv" \
  --stats "$OUT/t.stats" --max-runtime 60 > "$OUT/t.out" 2> "$OUT/t.err" &
TPID=$!
PIDS+=($TPID)
wait_line "the long client to start" "$TPID" "$OUT/t.err" "tick 0"
kill -TERM "$TPID"
rc=0
wait "$TPID" || rc=$?
((rc == 0)) || fail "SIGTERM: lbclient exited $rc"
check_accounting "$OUT/t.stats" "$OUT/t.csv" 0
[[ $(stat_of "$OUT/t.stats" stopped_by_signal) == 1 ]] || fail "SIGTERM not recorded"
[[ $(stat_of "$OUT/t.stats" hit_max_runtime) == 0 ]] || fail "stopped by --max-runtime, not SIGTERM"

# ---- 3. the oracle needs the board ----
for i in 0 1; do kill -TERM "${SERVER_PID[$i]}"; wait "${SERVER_PID[$i]}" 2>/dev/null || true; done
sed -i -e 's/^total_ticks: .*/total_ticks: 300/' -e 's/^picker: .*/picker: "weighted(oracle.utilization.mean)"/' "$OUT/s.yaml"
rc=0
"$CLI" --scenario "$OUT/s.yaml" --clients 0:2 --servers "$SERVERS" --log "$OUT/o.csv" \
  2> "$OUT/o.err" || rc=$?
((rc == 2)) || fail "an oracle picker without --board: exit $rc, expected 2"
grep -q -- "--board" "$OUT/o.err" || fail "the refusal does not name --board"
start_server 0 "" "" --board "$BOARD"
start_server 1 "" "" --board "$BOARD"
SERVERS="127.0.0.1:$(port_of 0 tcp):$(port_of 0 udp),127.0.0.1:$(port_of 1 tcp):$(port_of 1 udp)"
"$CLI" --scenario "$OUT/s.yaml" --clients 0:2 --servers "$SERVERS" --log "$OUT/o.csv" \
  --stats "$OUT/o.stats" --board "$BOARD" --max-runtime 60 > "$OUT/o.out" 2>> "$OUT/o.err" ||
  fail "oracle run with --board failed"
check_accounting "$OUT/o.stats" "$OUT/o.csv"

# ---- 4. UDP ----
echo "transport: udp" >> "$OUT/s.yaml"
"$CLI" --scenario "$OUT/s.yaml" --clients 0:2 --servers "$SERVERS" --log "$OUT/u.csv" \
  --stats "$OUT/u.stats" --board "$BOARD" --max-runtime 60 > "$OUT/u.out" 2> "$OUT/u.err" ||
  fail "UDP run failed"
check_accounting "$OUT/u.stats" "$OUT/u.csv"
(($(stat_of "$OUT/u.stats" completed) > 0)) || fail "nothing completed over UDP"
kill -TERM "${SERVER_PID[1]}"
wait "${SERVER_PID[1]}" 2>/dev/null || true
"$CLI" --scenario "$OUT/s.yaml" --clients 0:2 --servers "$SERVERS" --log "$OUT/ud.csv" \
  --stats "$OUT/ud.stats" --board "$BOARD" --max-runtime 60 > "$OUT/ud.out" 2> "$OUT/ud.err" ||
  fail "UDP run with server 1 dead failed"
check_accounting "$OUT/ud.stats" "$OUT/ud.csv"
python3 - "$OUT/ud.csv" <<'PY' || fail "UDP to a dead server: not failed as expected"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
dead = [r["outcome"] for r in rows if r["server"] == "Server 1"]
assert dead.count("failed") > 0, "no failed request on the dead server"
assert "timed_out" not in dead, f"{dead.count('timed_out')} requests to the dead server timed out"
bad = [r for r in rows if r["server"] == "Server 0" and r["outcome"] != "completed"]
assert not bad, f"{len(bad)} requests to the live server did not complete"
print(f"UDP, server 1 dead: {dead.count('failed')} failed, {len(rows)} requests")
PY

# ---- 5. where the receive delay is held ----
for i in 0 1; do kill -TERM "${SERVER_PID[$i]}" 2>/dev/null || true; wait "${SERVER_PID[$i]}" 2>/dev/null || true; done
sed -i -e '/^transport:/d' -e 's/^picker: .*/picker: random/' "$OUT/s.yaml"
for hold in server client; do
  cp "$OUT/s.yaml" "$OUT/h.yaml"
  echo "response_hold: $hold" >> "$OUT/h.yaml"
  for i in 0 1; do
    rm -f "$OUT/port$i"
    "$SRV" --scenario "$OUT/h.yaml" --index "$i" --port-file "$OUT/port$i" --threads 20 \
      --max-runtime 60 --stats "$OUT/h$hold$i.stats" 2>> "$OUT/server$i.err" &
    SERVER_PID[$i]=$!
    PIDS+=($!)
    wait_for "server $i's port file" 20 test -s "$OUT/port$i"
  done
  SERVERS="127.0.0.1:$(port_of 0 tcp):$(port_of 0 udp),127.0.0.1:$(port_of 1 tcp):$(port_of 1 udp)"
  "$CLI" --scenario "$OUT/h.yaml" --clients 0:2 --servers "$SERVERS" --log "$OUT/h$hold.csv" \
    --stats "$OUT/h$hold.stats" --max-runtime 60 > "$OUT/h$hold.out" 2> "$OUT/h$hold.err" ||
    fail "response_hold: $hold run failed"
  check_accounting "$OUT/h$hold.stats" "$OUT/h$hold.csv"
  for i in 0 1; do kill -TERM "${SERVER_PID[$i]}"; wait "${SERVER_PID[$i]}" 2>/dev/null || true; done
  holds=0
  done_=0
  for i in 0 1; do
    holds=$((holds + $(stat_of "$OUT/h$hold$i.stats" holds)))
    done_=$((done_ + $(stat_of "$OUT/h$hold$i.stats" completed)))
  done
  ((done_ > 0)) || fail "response_hold: $hold: the servers completed nothing"
  if [[ $hold == server ]]; then
    ((holds == done_)) || fail "response_hold: server: $holds holds for $done_ requests completed"
  else
    ((holds == 0)) || fail "response_hold: client: the servers held $holds responses"
  fi
  echo "response_hold: $hold: servers completed $done_, held $holds"
done
echo "PASS"
