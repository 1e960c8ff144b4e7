#!/usr/bin/env bash
# The catalog fidelity run: every catalog scenario that fits this machine on
# a real fleet and in lbsim, on the same seeds (lbharness compare), then one
# table: per scenario the verdict, mean and p99 real/sim with their paired
# 95 % intervals, the per-phase differences, how many real runs were valid,
# and the rank correlation of the algorithms (sim against real).
#
# Usage: tools/catalog_fidelity.sh [--out DIR] [--runs N] [--build DIR]
#                                  [--set FIELD=VALUE]... [--seed-picking]
#                                  [--real-dir DIR] [SCENARIO...]
#        tools/catalog_fidelity.sh --from DIR   (the table again from a run)
# --seed-picking counts real picking as the seed does (compare's option);
# --real-dir DIR compares against an earlier run's real logs (DIR: its
# --out) instead of starting fleets, e.g. to judge them with --seed-picking.
# Default scenarios: every scenarios/*.yaml but quick.yaml (a copy of one of
# them) and those a real fleet cannot run (trace arrivals). The default fleet
# is the one a 2-core machine holds with valid timing (docs/timings.md):
# 8 servers x 8 clients, subsets of 4, 8 threads, 40 ms ticks, 200 ticks, the
# seed's utilization (0.8667 requests per server per tick at 8 threads and 6
# ticks). Later --set win. Writes DIR/fidelity.md beside compare's CSVs and
# report.html; prints the table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="fidelity-$(date -u +%Y%m%d-%H%M%S)"
runs=3
build="$root/build"
sets=(--set servers=8 --set clients=8 --set subset_size=4 --set mean_threads=8
      --set mean_requests_per_server_per_tick=0.8667 --set total_ticks=200
      --set tick=40ms)
scenarios=()
from=""
extra=()
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --set) sets+=(--set "${2:?--set needs FIELD=VALUE}"); shift 2 ;;
    --from) from=${2:?--from needs a folder}; shift 2 ;;
    --seed-picking) extra+=(--seed-picking); shift ;;
    --real-dir) extra+=(--real-dir "${2:?--real-dir needs a folder}"); real_dir=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "catalog_fidelity: unknown option $1 (--help lists them)" >&2; exit 2 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
[[ $runs =~ ^[0-9]+$ ]] && ((runs >= 2)) ||
  { echo "catalog_fidelity: --runs wants an integer >= 2 (an interval needs 2 runs), got '$runs'" >&2; exit 2; }
harness="$build/harness/lbharness"
[[ -x $harness ]] || { echo "catalog_fidelity: no $harness: build first (deploy/build.sh)" >&2; exit 2; }
if [[ -z $from ]] && ((${#scenarios[@]} == 0)); then
  for f in "$root"/scenarios/*.yaml; do
    [[ $(basename "$f") == quick.yaml ]] && continue
    if grep -qE '^[[:space:]]*arrivals:[[:space:]]*trace' "$f"; then
      echo "catalog_fidelity: skipped $(basename "$f" .yaml): trace arrivals" >&2
      continue
    fi
    scenarios+=("$f")
  done
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
[[ -n $from ]] || echo "catalog_fidelity: ${#scenarios[@]} scenarios x $runs runs a side into $out" \
     "(load average $load_before, commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))" >&2
status=0
if [[ -n $from ]]; then # the table again from an earlier run's folder
  out=$from
  [[ -f $out/intervals.csv && -f $out/compare.log ]] ||
    { echo "catalog_fidelity: --from $out: no intervals.csv and compare.log there" >&2; exit 2; }
else
runs_opt=(--runs "$runs")
[[ -n ${real_dir:-} ]] && runs_opt=() # the runs are the logs'
"$harness" compare "${scenarios[@]}" "${runs_opt[@]}" "${sets[@]}" "${extra[@]}" --out "$out" >"$out.log" 2>&1 || status=$?
mkdir -p "$out" && mv "$out.log" "$out/compare.log"
[[ -f $out/intervals.csv ]] ||
  { echo "catalog_fidelity: compare failed (exit $status); its output: $out/compare.log" >&2; tail -5 "$out/compare.log" >&2; exit 1; }
fi

# compare's CSVs quote the fields that may hold commas (a picker
# expression, a reason): blanked here, so that awk's comma split keeps the
# columns (none of the blanked ones is read below).
unquote() { sed -E 's/"([^"]|"")*"//g' "$1"; }
# One row per scenario from compare's CSVs (found by column name).
table=$(awk -F, '
  function col(name,   i) { for (i = 1; i <= NF; i++) if ($i == name) return i; return 0 }
  function pct(x) { return (x == "nan" || x == "") ? "" : sprintf("%+.1f", 100 * x) }
  function ci(r, lo, hi) {
    if (r == "") return "n/a"
    if (lo == "nan" || lo == "") return sprintf("%+.1f %% (no interval)", 100 * r)
    return sprintf("%+.1f %% [%+.1f, %+.1f]", 100 * r, 100 * lo, 100 * hi)
  }
  FNR == 1 { file++ } # 1: verdicts.csv, 2: intervals.csv
  file == 1 {
    if (FNR == 1) { vs = col("scenario"); vv = col("verdict"); vr = col("real_runs"); vj = col("judged_real_runs"); next }
    if (!(($vs) in order)) { order[$vs] = ++n; names[n] = $vs }
    verdict[$vs] = $vv; valid[$vs] = $vj "/" $vr; next
  }
  file == 2 {
    if (FNR == 1) { is = col("scenario"); ifg = col("figure"); ir = col("rel"); il = col("rel_lo"); ih = col("rel_hi"); io = col("outcome"); iruns = col("runs"); next }
    key = $is SUBSEP $ifg
    if ($ifg == "mean") pairs[$is] = $iruns
    rel[key] = $ir; lo[key] = $il; hi[key] = $ih; out[key] = $io; next
  }
  END {
    print "| scenario | verdict | valid real runs | pairs judged | mean, real vs sim [95% CI] | p99, real vs sim [95% CI] | send | server_queue | processing | receive |"
    print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    for (k = 1; k <= n; k++) {
      s = names[k]
      printf "| %s | %s | %s | %s | %s | %s", s, verdict[s], valid[s], pairs[s],
        ci(rel[s SUBSEP "mean"], lo[s SUBSEP "mean"], hi[s SUBSEP "mean"]),
        ci(rel[s SUBSEP "p99"], lo[s SUBSEP "p99"], hi[s SUBSEP "p99"])
      split("send server_queue processing receive", ph, " ")
      for (p = 1; p <= 4; p++) {
        key = s SUBSEP ph[p]
        printf " | %s", (key in rel) ? pct(rel[key]) " %" : "n/a"
      }
      print " |"
    }
  }' <(unquote "$out/verdicts.csv") <(unquote "$out/intervals.csv"))
rho=$(grep -m1 'Spearman rank correlation' "$out/compare.log" || echo "Spearman rank correlation: not computed")
table_file=$out/fidelity.md
[[ -n $from && -f $table_file ]] && table_file=$out/fidelity-table.md # keep the run's own
{
  echo "# Catalog fidelity, $(date -u +%Y-%m-%d)"
  echo
  if [[ -n $from ]]; then
    echo "Table rebuilt from $from (its fidelity.md or compare.log says how that run was made)."
  else
    echo "Command: \`tools/catalog_fidelity.sh ${runs_opt[*]} ${sets[*]} ${extra[*]} ...\` at commit" \
         "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), load average before" \
         "the run $load_before, after it $(cut -d' ' -f1-3 /proc/loadavg), on $(nproc) cores."
  fi
  echo "Intervals: 95 % paired by seed, relative to sim (lbharness compare's rule);" \
       "phases: real - sim relative to sim, over the valid runs."
  echo
  echo "$table"
  echo
  echo "$rho"
  echo
  echo "Verdict rule and tolerances: see compare.log and report.html."
} >"$table_file"
cat "$table_file"
exit "$status"
