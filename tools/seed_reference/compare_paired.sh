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
[ $# -ge 1 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
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
# The columns by name: algorithm (the scenario) and seed.
column() { head -1 "$seed_csv" | tr -d '\r' | tr ',' '\n' | grep -nx "$1" | cut -d: -f1 || true; }
acol=$(column algorithm)
scol=$(column seed)
[ -n "$acol" ] && [ -n "$scol" ] ||
  { echo "compare_paired.sh: $seed_csv needs 'algorithm' and 'seed' columns (run_seed.sh's CSV)" >&2; exit 2; }
mapfile -t names < <(awk -F, -v a="$acol" 'NR > 1 && $a != "" && !seen[$a]++ { print $a }' "$seed_csv")
: >"$dir/lbsim.csv"
for n in "${names[@]}"; do
  # this scenario's seeds, in the CSV's order (lbsim's run r takes fleet r mod F)
  mapfile -t seeds < <(awk -F, -v n="$n" -v a="$acol" -v c="$scol" 'NR > 1 && $a == n { print $c }' "$seed_csv")
  "$python" "$here/dump_seed_fleets.py" "$dir/model" "$n" ${py_sets[@]+"${py_sets[@]}"} \
    "${seeds[@]}" >"$dir/fleets_$n.txt"
  "$lbsim" "$root/scenarios/$n.yaml" --fleet "$dir/fleets_$n.txt" \
    --runs $((${#seeds[@]} * reps)) --seed 100000 --jobs 2 --quiet \
    ${sets[@]+"${sets[@]}"} --summary-csv "$dir/one.csv"
  if [ -s "$dir/lbsim.csv" ]; then tail -n +2 "$dir/one.csv" >>"$dir/lbsim.csv"; else cat "$dir/one.csv" >"$dir/lbsim.csv"; fi
done
cd "$here" && "$python" compare_paired.py "$seed_csv" "$dir/lbsim.csv"
