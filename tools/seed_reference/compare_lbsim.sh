#!/usr/bin/env bash
# Runs lbsim on the catalog scenarios named in a seed summary CSV (from
# run_seed.sh) with the same --set overrides, and prints compare.py's table:
# lbsim's mean across runs against the seed's mean +- 2 standard errors.
#
#   tools/seed_reference/compare_lbsim.sh SEED.csv [--runs N] [--lbsim BIN] [--set F=V]...
#
# --runs: lbsim runs per scenario (default 200; they take milliseconds each).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seed_csv=$1
shift
runs=200
lbsim=$root/build/sim/lbsim
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
  --runs) runs=$2; shift 2 ;;
  --lbsim) lbsim=$2; shift 2 ;;
  --set) sets+=(--set "$2"); shift 2 ;;
  *) echo "compare_lbsim.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mapfile -t names < <(tail -n +2 "$seed_csv" | cut -d, -f1 | awk '!seen[$0]++')
out=$(mktemp /tmp/lbsim_cmp.XXXXXX.csv)
trap 'rm -f "$out"' EXIT
paths=()
for n in "${names[@]}"; do paths+=("$root/scenarios/$n.yaml"); done
"$lbsim" "${paths[@]}" --runs "$runs" --seed 100000 --jobs 2 --quiet ${sets[@]+"${sets[@]}"} \
  --summary-csv "$out"
/usr/bin/python3 "$root/tools/seed_reference/compare.py" "$seed_csv" "$out"
