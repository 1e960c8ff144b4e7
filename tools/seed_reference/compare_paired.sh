#!/usr/bin/env bash
# lbsim on the very fleets of the seed's runs: for each scenario of a seed
# summary CSV (run_seed.sh), writes the fleets the seed's own code drew for
# those runs' seeds (dump_seed_fleets.py), runs lbsim --fleet on them, REPS
# runs a fleet, and prints compare_paired.py's table.
#
#   tools/seed_reference/compare_paired.sh SEED.csv [--reps N] [--lbsim BIN] [--set F=V]...
#
# --reps: lbsim runs on each fleet (default 20; they take milliseconds).
# Needs the seed notebook and Debian's python3 with numpy, pandas, scipy
# (as run_seed.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seed_csv=$(realpath "$1")
shift
reps=20
lbsim=$root/build/sim/lbsim
sets=()
py_sets=()
while [ $# -gt 0 ]; do
  case "$1" in
  --reps) reps=$2; shift 2 ;;
  --lbsim) lbsim=$2; shift 2 ;;
  --set) sets+=(--set "$2"); py_sets+=("$2"); shift 2 ;;
  *) echo "compare_paired.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
python=${LB_SEED_PYTHON:-/usr/bin/python3}
dir=$(mktemp -d /tmp/lb_paired.XXXXXX)
trap 'rm -rf "$dir"' EXIT
bash "$here/run_seed.sh" --model-dir "$dir/model" >/dev/null
mapfile -t names < <(tail -n +2 "$seed_csv" | cut -d, -f1 | awk '!seen[$0]++')
: >"$dir/lbsim.csv"
for n in "${names[@]}"; do
  # the seed column of this scenario's rows, in the CSV's order
  col=$(head -1 "$seed_csv" | tr ',' '\n' | grep -nx seed | cut -d: -f1)
  mapfile -t seeds < <(awk -F, -v n="$n" -v c="$col" 'NR > 1 && $1 == n { print $c }' "$seed_csv")
  "$python" "$here/dump_seed_fleets.py" "$dir/model" "$n" ${py_sets[@]+"${py_sets[@]}"} \
    "${seeds[@]}" >"$dir/fleets_$n.txt"
  "$lbsim" "$root/scenarios/$n.yaml" --fleet "$dir/fleets_$n.txt" \
    --runs $((${#seeds[@]} * reps)) --seed 100000 --jobs 2 --quiet \
    ${sets[@]+"${sets[@]}"} --summary-csv "$dir/one.csv"
  if [ -s "$dir/lbsim.csv" ]; then tail -n +2 "$dir/one.csv" >>"$dir/lbsim.csv"; else cat "$dir/one.csv" >"$dir/lbsim.csv"; fi
done
cd "$here" && "$python" compare_paired.py "$seed_csv" "$dir/lbsim.csv"
