#!/usr/bin/env bash
# lbharness run on a tiny fleet (2 servers, 2 clients, 300 ms of arrivals):
# every request sent is accounted for, and no process outlives the harness,
# neither after a normal run nor after Ctrl-C in the middle of one; compare
# on the fleet, and on the run's logs (--real-dir, --real-csv).
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
make_out lbh-it

tiny_scenario "$OUT/tiny.yaml" tiny "data_frequency: 1"

# 1. A whole run, bounded in time.
rc=0
timeout -s KILL 120 "$H" run "$OUT/tiny.yaml" --out "$OUT/out" --quiet > "$OUT/run.txt" 2>&1 || rc=$?
cat "$OUT/run.txt"
[[ $rc -eq 0 ]] || fail "lbharness run exited $rc"
no_strays "after a normal run"
RUN=$OUT/out/tiny/real/run-0
[[ -s $RUN/requests.csv ]] || fail "no $RUN/requests.csv"
[[ -s $RUN/summary.csv ]] || fail "no $RUN/summary.csv"
grep -q '^algorithm,mean_latency' "$RUN/summary.csv" || fail "summary.csv lacks the seed's header"
accounted "$RUN"
sent=$SENT
rows=$(( $(wc -l < "$RUN/requests.csv") - 1 ))
[[ $rows -eq $sent ]] || fail "requests.csv has $rows records for $sent requests sent"
grep -q "valid" "$OUT/run.txt" || fail "no summary table printed"

# 2. compare on the same scenario: simulator + fleet, verdict, report.
rc=0
timeout -s KILL 120 "$H" compare "$OUT/tiny.yaml" --out "$OUT/cmp" --quiet > "$OUT/cmp.txt" 2>&1 || rc=$?
cat "$OUT/cmp.txt"
[[ $rc -eq 0 ]] || fail "lbharness compare exited $rc"
no_strays "after compare"
grep -Eq '^tiny +(holds|undecided|does not hold|too few runs|not judged) ' "$OUT/cmp.txt" || fail "no verdict line for tiny"
tail -n 1 "$OUT/cmp.txt" | grep -q "report: $OUT/cmp/report.html" || fail "output does not end with the report"
grep -q '<svg' "$OUT/cmp/report.html" || fail "report.html has no chart"
grep -q '<script' "$OUT/cmp/report.html" && fail "report.html must not need a script"
[[ $(grep -c '^tiny,' "$OUT/cmp/verdicts.csv") -eq 1 ]] || fail "verdicts.csv lacks tiny"
[[ $(grep -c '^tiny,sim,' "$OUT/cmp/runs.csv") -eq 1 ]] || fail "runs.csv lacks the simulated run"
[[ $(grep -c '^tiny,real,' "$OUT/cmp/runs.csv") -eq 1 ]] || fail "runs.csv lacks the real run"

# 2b. compare with the real side from the logs of step 1 (as if collected
# from containers): no fleet starts, the simulated side is lbsim with the
# same seeds as in step 2, every logged request is on the real side.
for how in dir csv; do
  if [[ $how == dir ]]; then src=(--real-dir "$OUT/out"); else src=(--real-csv "$RUN/requests.csv"); fi
  rc=0
  timeout -s KILL 120 "$H" compare "$OUT/tiny.yaml" "${src[@]}" --out "$OUT/cmp-$how" --quiet \
    > "$OUT/cmp-$how.txt" 2>&1 || rc=$?
  cat "$OUT/cmp-$how.txt"
  [[ $rc -eq 0 ]] || fail "compare --real-$how exited $rc"
  grep -Eq '^tiny +(holds|undecided|does not hold|too few runs|not judged) ' "$OUT/cmp-$how.txt" || fail "--real-$how: no verdict"
  grep -q "^real side: the logs of " "$OUT/cmp-$how.txt" || fail "--real-$how: source not named"
  [[ ! -e $OUT/cmp-$how/tiny/real ]] || fail "--real-$how started a fleet"
  L=$OUT/cmp-$how/tiny/real-logs/run-0/requests.csv
  [[ $(( $(wc -l < "$L") - 1 )) -eq $sent ]] || fail "--real-$how: $L lacks records"
  cmp -s "$OUT/cmp/tiny/sim/requests-0.csv" "$OUT/cmp-$how/tiny/sim/requests-0.csv" ||
    fail "--real-$how: the simulated side differs from step 2's (seeds?)"
  grep -q "^tiny,real,0,$sent," "$OUT/cmp-$how/runs.csv" || fail "--real-$how: runs.csv real row"
done
# The same figures (validity, and so the verdict, may differ: --real-dir
# also reads the run's .stats, a bare --real-csv file has none).
cmp -s "$OUT/cmp-dir/comparison.csv" "$OUT/cmp-csv/comparison.csv" ||
  fail "--real-dir and --real-csv on the same log disagree"
# A run other than 0 alone (logs of run 3): the simulated side is lbsim's
# run 3, seeded as it is among runs 0..3.
mkdir -p "$OUT/logs3"
cp "$RUN/requests.csv" "$OUT/logs3/requests-3.csv"
timeout -s KILL 120 "$H" compare "$OUT/tiny.yaml" --real-dir "$OUT/logs3" --out "$OUT/cmp-3" \
  --quiet > "$OUT/cmp-3.txt" 2>&1 || fail "compare of run 3: $(cat "$OUT/cmp-3.txt")"
grep -q "^tiny,sim,3," "$OUT/cmp-3/runs.csv" || fail "run 3: runs.csv lacks the simulated run 3"
grep -q "^tiny,real,3,$sent," "$OUT/cmp-3/runs.csv" || fail "run 3: runs.csv lacks the real run 3"
timeout -s KILL 120 "$B/sim/lbsim" "$OUT/cmp-3/tiny/scenario.yaml" --runs 4 --quiet \
  --summary-csv "$OUT/sim4.csv" --requests-csv "$OUT/sim4-%r.csv" || fail "lbsim --runs 4"
cmp -s "$OUT/sim4-3.csv" "$OUT/cmp-3/tiny/sim/requests-3.csv" ||
  fail "run 3 alone was not simulated as lbsim's run 3"
no_strays "after compare --real-*"

# 3. Ctrl-C in the middle of a longer run: the fleet goes with the harness.
sed -e 's/total_ticks: 60/total_ticks: 4000/' -e 's/name: tiny/name: long/' \
  "$OUT/tiny.yaml" > "$OUT/long.yaml"
"$H" run "$OUT/long.yaml" --out "$OUT/out" --quiet > "$OUT/long.txt" 2>&1 &
hpid=$!
# Wait (bounded) until the clients run: their logs appear.
for _ in $(seq 1 200); do
  compgen -G "$OUT/out/long/real/run-0/client-*.csv" > /dev/null && break
  kill -0 "$hpid" 2>/dev/null || break
  sleep 0.05
done
compgen -G "$OUT/out/long/real/run-0/client-*.csv" > /dev/null || fail "the long run never started"
pgrep -f -- "$OUT/out/long" > /dev/null || fail "no fleet process found while running"
kill -INT "$hpid"
rc=0
timeout 60 tail --pid="$hpid" -f /dev/null || fail "lbharness did not exit after SIGINT"
wait "$hpid" || rc=$?
[[ $rc -ne 0 ]] || fail "an interrupted run exited 0"
no_strays "after SIGINT"

# 4. The harness killed outright (SIGKILL, no chance to clean up): the
# kernel takes the fleet down with it (PR_SET_PDEATHSIG).
sed -e 's/name: long/name: killed/' "$OUT/long.yaml" > "$OUT/killed.yaml"
"$H" run "$OUT/killed.yaml" --out "$OUT/out" --quiet > "$OUT/killed.txt" 2>&1 &
hpid=$!
for _ in $(seq 1 200); do
  compgen -G "$OUT/out/killed/real/run-0/client-*.csv" > /dev/null && break
  kill -0 "$hpid" 2>/dev/null || break
  sleep 0.05
done
pgrep -f -- "$OUT/out/killed" > /dev/null || fail "no fleet process found before SIGKILL"
kill -KILL "$hpid"
wait "$hpid" || true
# The kernel kills the orphans asynchronously: wait (bounded) for them to go.
for _ in $(seq 1 100); do
  pgrep -f -- "$OUT" > /dev/null || break
  sleep 0.05
done
no_strays "after SIGKILL of lbharness"

# 5. An oracle picker's board (/dev/shm/lbharness-PID-RUN) is removed when
# the run ends, not left behind for a later harness at a recycled PID.
sed -e 's/^picker: random/picker: "weighted(oracle.capacity(mean, mean))"/' \
  -e 's/name: tiny/name: oracle/' "$OUT/tiny.yaml" > "$OUT/oracle.yaml"
grep -q oracle.capacity "$OUT/oracle.yaml" || fail "oracle.yaml has no oracle picker"
"$H" run "$OUT/oracle.yaml" --out "$OUT/out" --quiet > "$OUT/oracle.txt" 2>&1 &
hpid=$!
rc=0
wait "$hpid" || rc=$?
[[ $rc -eq 0 ]] || { cat "$OUT/oracle.txt"; fail "the oracle run exited $rc"; }
[[ ! -e /dev/shm/lbharness-$hpid-0 ]] || fail "the oracle board /dev/shm/lbharness-$hpid-0 was left"

# 6. A scenario name that would leave --out is refused before any fleet.
sed -e 's/name: tiny/name: ..\/escaped/' "$OUT/tiny.yaml" > "$OUT/escape.yaml"
rc=0
"$H" run "$OUT/escape.yaml" --out "$OUT/out" --quiet > "$OUT/escape.txt" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "a name with ../ was accepted"
grep -q "field 'name'" "$OUT/escape.txt" || fail "the refusal does not name the field"
[[ ! -e $OUT/escaped ]] || fail "lbharness wrote outside --out"
echo "PASS"
