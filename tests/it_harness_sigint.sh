#!/usr/bin/env bash
# Ctrl-C gives the daemons the documented grace (docs/harness.md: SIGTERM,
# 2 s, then SIGKILL): SIGINT to `lbharness run` in the middle of a run
# ends it with status 130, and the daemons' logs are kept whole: every
# client process flushed its per-request log and wrote its stats, with
# every request sent accounted for.
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
make_out lbh-sigint

# 2 x 2 fleet, 20 ms ticks, 1000 ticks: 20 s of arrivals, stopped after ~1.5 s.
tiny_scenario_20ms "$OUT/sigint.yaml" sigint 1000 "data_frequency: 1"

timeout -s KILL 120 "$H" run "$OUT/sigint.yaml" --out "$OUT/out" --quiet > "$OUT/run.txt" 2>&1 &
harness=$!
RUN=$OUT/out/sigint/real/run-0
server_pid "$RUN" 1
sleep 1.5
t0=$(date +%s.%N)
kill -INT "$harness"
rc=0
wait "$harness" || rc=$?
t1=$(date +%s.%N)
cat "$OUT/run.txt"
[[ $rc -eq 130 ]] || fail "lbharness exited $rc after SIGINT, not 130"
no_strays "after SIGINT"
# The grace is bounded: 2 s, plus the harness's own clean-up.
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 8) }' || fail "the stop took $t0 -> $t1"
for k in 0 1; do
  [[ -s $RUN/client-$k.stats ]] || fail "client process $k wrote no stats: killed before its grace"
  rows=$(($(wc -l < "$RUN/client-$k.csv") - 1))
  sent=$(sed -n 's/^sent=//p' "$RUN/client-$k.stats")
  ((sent > 0)) || fail "client process $k sent nothing"
  ((rows == sent)) || fail "client process $k sent $sent requests, logged $rows"
  grep -q '^stopped_by_signal=1' "$RUN/client-$k.stats" || fail "client $k: not stopped by signal"
done
accounted "$RUN"
for i in 0 1; do
  [[ -s $RUN/server-$i.log ]] || fail "server $i log is empty"
done
echo "PASS"
