#!/usr/bin/env bash
# lbsim's speed: one run of each of six seed scenarios at the seed's
# defaults (40 servers, 40 clients, 170 ticks, ~80,000 requests) on one core,
# median of RUNS runs timed inside lbsim (fleet built, run, summarized); then
# the whole catalog x 6 runs with --jobs 2, wall clock of the process.
#
#   bench/sim_bench.sh [BUILD_DIR]        (default: build; RUNS=9 to change)
#
# Measures and prints; asserts nothing. Run it on an idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
lbsim=$build/sim/lbsim
runs=${RUNS:-9}
[ -x "$lbsim" ] || { echo "sim_bench: no $lbsim: build first (cmake --build $build)" >&2; exit 1; }
pin=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then pin=(taskset -c 0); fi
scenarios=(Random LeastClientRequestsInFlight WeightedMeanUtilization ProbingHcl FastestProbe2
  CheatPidControlledUtilization)

# The tree's commit: the build's own only when it was built from this tree.
echo "lbsim in $build (tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), $(nproc) cores, $(uname -m), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-32s %10s %10s %10s %10s\n' scenario requests median_ms min_ms max_ms
for s in "${scenarios[@]}"; do
  # Progress lines carry each run's in-process time: "..., N requests, T ms".
  out=$("${pin[@]}" "$lbsim" "$root/scenarios/$s.yaml" --runs "$runs" --summary-csv /dev/null 2>&1 |
    grep -E '^lbsim: \[' || true)
  [ -n "$out" ] || { echo "sim_bench: lbsim failed on $s" >&2; exit 1; }
  echo "$out" | awk -v s="$s" '
    { for (i = 1; i <= NF; i++) { if ($i == "requests,") req = $(i - 1); if ($i == "ms") t[n++] = $(i - 1) } }
    END {
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
      med = n % 2 ? t[int(n / 2)] : (t[n / 2 - 1] + t[n / 2]) / 2
      printf "%-32s %10s %10.1f %10.1f %10.1f\n", s, req, med, t[0], t[n - 1]
    }'
done

n=$(ls "$root"/scenarios/*.yaml | wc -l)
t0=$(date +%s%N)
"$lbsim" --all --catalog "$root/scenarios" --runs 6 --jobs 2 --quiet --summary-csv /dev/null 2>/dev/null || true
t1=$(date +%s%N)
awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "catalog: %d scenarios x 6 runs, --jobs 2: %.1f s wall\n", n, ns / 1e9 }'
