#!/usr/bin/env bash
# The harness survives its fleet: a server killed with SIGKILL in the middle
# of `lbharness run` is reported (which, when, how; events.csv), the run
# finishes, its per-request log is written and every request sent has an
# outcome (completed, failed or timed out); the run is marked not valid.
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
make_out lbh-dead

# 2 x 2 fleet, 20 ms ticks, 150 ticks: 3 s of arrivals, every request logged.
tiny_scenario_20ms "$OUT/dead.yaml" dead 150 "data_frequency: 1"
RUN=$OUT/out/dead/real/run-0

timeout -s KILL 120 "$H" run "$OUT/dead.yaml" --out "$OUT/out" --quiet > "$OUT/run.txt" 2>&1 &
harness=$!
server_pid "$RUN" 1
sleep 1.5
kill -KILL "$PID"
rc=0
wait "$harness" || rc=$?
cat "$OUT/run.txt"
[[ $rc -eq 0 ]] || fail "lbharness run exited $rc after a server died"
no_strays "after the run"
grep -Eq 'server 1 died \(signal 9' "$OUT/run.txt" || fail "the death is not reported"
grep -Eq '^[0-9.]+,[0-9.]+,server 1,died,signal 9' "$RUN/events.csv" ||
  fail "events.csv lacks the death: $(cat "$RUN/events.csv" 2>/dev/null)"
grep -q 'run 0 is not valid.*died unplanned' "$OUT/run.txt" || fail "the run was called valid"
[[ -s $RUN/requests.csv ]] || fail "no per-request log"
accounted "$RUN"
rows=$(($(wc -l < "$RUN/requests.csv") - 1))
((rows == SENT)) || fail "$SENT requests sent but $rows rows in requests.csv"
# Every row has an outcome, and the dead server's requests failed.
col=$(head -n 1 "$RUN/requests.csv" | tr ',' '\n' | grep -n '^outcome$' | cut -d: -f1 || true)
if [[ -n $col ]]; then
  bad=$(tail -n +2 "$RUN/requests.csv" | cut -d, -f"$col" | grep -Evc '^(completed|failed|timed_out)$' || true)
  ((bad == 0)) || fail "$bad rows without an outcome"
fi
failed=$(sed -n 's/^failed=//p' "$RUN"/client-*.stats | paste -sd+ | bc)
((failed > 0)) || fail "no request failed although server 1 died"
echo "PASS"
