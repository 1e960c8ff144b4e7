#!/usr/bin/env bash
# The fidelity guard sees a stall: a server stopped for a second (SIGSTOP,
# then SIGCONT) in the middle of a run marks the run not valid and is named,
# with the tick it stalled at, although its p99 lateness may look fine.
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
make_out lbh-stall

# 2 x 2 fleet, 20 ms ticks, 150 ticks: 3 s of arrivals.
tiny_scenario_20ms "$OUT/stall.yaml" stall 150

timeout -s KILL 120 "$H" run "$OUT/stall.yaml" --out "$OUT/out" --quiet > "$OUT/run.txt" 2>&1 &
harness=$!
server_pid "$OUT/out/stall/real/run-0" 0
pid=$PID
sleep 1.5
kill -STOP "$pid"
sleep 1
kill -CONT "$pid"
rc=0
wait "$harness" || rc=$?
cat "$OUT/run.txt"
[[ $rc -eq 0 ]] || fail "lbharness run exited $rc"
no_strays "after the run"
RUN=$OUT/out/stall/real/run-0
grep -q '^ticks_skipped=[1-9]' "$RUN/server-0.stats" || fail "server 0 skipped no tick"
grep -q 'run 0 is not valid' "$OUT/run.txt" || fail "a stalled run was called valid"
grep -Eq 'stalled, worst: server 0 woke [0-9.]+ ms late at tick [0-9]+, [0-9]+ ticks skipped' \
  "$OUT/run.txt" || fail "the stalled server is not named with its tick"
accounted "$RUN"
echo "PASS"
