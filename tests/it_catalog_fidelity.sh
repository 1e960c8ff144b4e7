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
grep -q '^Spearman rank correlation' "$OUT/fid/fidelity.md" || fail "no rank correlation"
grep -q 'commit' "$OUT/fid/fidelity.md" || fail "the table does not say its commit"
cmp -s "$OUT/table.md" "$OUT/fid/fidelity.md" || fail "printed table differs from fidelity.md"
# The table again from the run's folder: the same rows.
"$tool" --from "$OUT/fid" > "$OUT/again.md" 2>&1 || fail "--from failed"
diff <(grep '^| ' "$OUT/fid/fidelity.md") <(grep '^| ' "$OUT/again.md") ||
  fail "--from gave other rows"
grep -q 'Table rebuilt from' "$OUT/again.md" || fail "--from does not say where it came from"
no_strays "after the fidelity run"
echo "PASS"
