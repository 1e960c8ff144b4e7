#!/usr/bin/env bash
# lbsim's side of request_stats.py: runs lbsim with every completion recorded
# (data_frequency=1: the simulation is the same, only the record grows) one
# run at a time, and prints request_stats.py's per-run statistics as CSV,
# deleting each run's per-request file once read.
#
#   tools/seed_reference/lbsim_request_stats.sh [--lbsim BIN] [--runs N] [--seed S]
#        [--set FIELD=VALUE]... SCENARIO...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lbsim=${LBSIM:-$here/../../build/sim/lbsim}
runs=10
seed=100000
sets=()
names=()
while [ $# -gt 0 ]; do
  case "$1" in
  --lbsim) lbsim=$2; shift 2 ;;
  --runs) runs=$2; shift 2 ;;
  --seed) seed=$2; shift 2 ;;
  --set) sets+=(--set "$2"); shift 2 ;;
  -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
  -*) echo "lbsim_request_stats.sh: unknown option $1" >&2; exit 2 ;;
  *) names+=("$1"); shift ;;
  esac
done
[ ${#names[@]} -gt 0 ] || { echo "lbsim_request_stats.sh: name at least one scenario" >&2; exit 2; }
tmp=$(mktemp -d /tmp/lb_reqstats.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
header=1
for ((r = 0; r < runs; r++)); do
  for name in "${names[@]}"; do
    "$lbsim" "$name" --runs 1 --seed $((seed + r)) --quiet ${sets[@]+"${sets[@]}"} \
      --set data_frequency=1 --requests-csv "$tmp/req.csv" --summary-csv /dev/null
    "${LB_SEED_PYTHON:-/usr/bin/python3}" "$here/request_stats.py" "$name" "$r" "$tmp/req.csv" | tail -n +$((header ? 1 : 2))
    header=0
    rm -f "$tmp/req.csv"
  done
done
