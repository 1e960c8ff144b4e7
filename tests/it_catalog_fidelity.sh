#!/usr/bin/env bash
# tools/catalog_fidelity.sh end to end on two scenarios and a short run (one
# with a quoted picker holding a comma): the
# table has a row per scenario with a verdict, intervals and phases, the rank
# correlation, and compare's CSVs beside it; nothing is left running.
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
require_bins "$B/harness/lbharness" "$B/sim/lbsim" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
make_out lbh-fidelity
root=$(cd "$(dirname "$0")/.." && pwd)
tool=$root/tools/catalog_fidelity.sh

"$tool" --help | grep -q 'catalog fidelity run' || fail "--help does not say what it does"
rc=0
"$tool" --runs 1 --build "$B" --out "$OUT/x" scenarios/Random.yaml > /dev/null 2> "$OUT/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q 'runs wants an integer >= 2' "$OUT/err" || fail "--runs 1 was not refused (rc $rc)"

rc=0
"$tool" --build "$B" --out "$OUT/fid" --runs 2 --set total_ticks=40 --set tick=20ms \
  "$root/scenarios/Random.yaml" "$root/scenarios/FastestProbe2.yaml" \
  > "$OUT/table.md" 2> "$OUT/progress" || rc=$?
[[ $rc -eq 0 ]] || { cat "$OUT/progress" "$OUT/fid/compare.log"; fail "catalog_fidelity exited $rc"; }
for f in fidelity.md intervals.csv verdicts.csv phases.csv report.html compare.log; do
  [[ -s $OUT/fid/$f ]] || fail "no $f"
done
verdicts='(holds|differs|undecided|does not hold|too few runs|not judged)'
for s in Random FastestProbe2; do # FastestProbe2: a picker with a comma
  grep -Eq "^\| $s \| $verdicts \| [0-9]+/2 \| [0-9]* \| [-+][0-9.]+ %" "$OUT/fid/fidelity.md" ||
    { cat "$OUT/fid/fidelity.md"; fail "no row for $s"; }
done
# The valid-runs column is compare's count of judged runs, not a guess.
judged=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "judged_real_runs") c = i; next }
                  $1 == "Random" { print $c }' "$OUT/fid/verdicts.csv")
[[ $judged =~ ^[0-9]+$ ]] || fail "verdicts.csv has no judged_real_runs for Random"
grep -Eq "^\| Random \| $verdicts \| $judged/2 \|" "$OUT/fid/fidelity.md" ||
  fail "the valid-runs column is not verdicts.csv's $judged/2"
grep -q '^Spearman rank correlation' "$OUT/fid/fidelity.md" || fail "no rank correlation"
grep -q 'commit' "$OUT/fid/fidelity.md" || fail "the table does not say its commit"
cmp -s "$OUT/table.md" "$OUT/fid/fidelity.md" || fail "printed table differs from fidelity.md"
# The table again from the run's folder: the same rows.
"$tool" --from "$OUT/fid" > "$OUT/again.md" 2>&1 || fail "--from failed"
diff <(grep '^| ' "$OUT/fid/fidelity.md") <(grep '^| ' "$OUT/again.md") ||
  fail "--from gave other rows"
grep -q 'Table rebuilt from' "$OUT/again.md" || fail "--from does not say where it came from"
# A run compare judged on 1 of 2 (the other not valid) shows as 1/2.
cp -r "$OUT/fid" "$OUT/fid1"
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "judged_real_runs") c = i }
                  NR > 1 && $1 == "Random" { $c = 1 } { print }' "$OUT/fid/verdicts.csv" > "$OUT/fid1/verdicts.csv"
"$tool" --from "$OUT/fid1" > "$OUT/one.md" 2>&1 || fail "--from on fid1 failed"
grep -Eq "^\| Random \| $verdicts \| 1/2 \|" "$OUT/one.md" || fail "1 judged run of 2 not shown as 1/2"
# The same fleets judged again from their logs with the seed's accounting
# of picking: no fleet started, the accounting said, every picking >= 1.
"$tool" --build "$B" --out "$OUT/seedpick" --seed-picking --real-dir "$OUT/fid" \
  --set total_ticks=40 --set tick=20ms "$root/scenarios/Random.yaml" > /dev/null 2>&1 ||
  { cat "$OUT/seedpick/compare.log"; fail "--seed-picking --real-dir failed"; }
grep -q 'accounting: real picking counted as the seed counts it' "$OUT/seedpick/compare.log" ||
  fail "compare does not say the picking was counted as the seed's"
grep -q 'real-logs' <(ls "$OUT/seedpick/Random") || fail "--real-dir did not use the logs"
no_strays "after the fidelity run"
echo "PASS"
