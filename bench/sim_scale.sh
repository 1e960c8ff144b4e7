#!/usr/bin/env bash
# lbsim's cost per request as the fleet grows: six seed scenarios at
# servers = clients = 40, 400 and 4,000 (the seed's per-server rate and 170
# ticks), CPU time (user + sys) per request created (probes included) and
# peak RSS of the process, one line each, with the ratio of the µs per
# request to the same scenario's 40x40. Then one 4,000 x 4,000 x 1,000-tick
# Random run (about 47 million requests), its CPU and wall time.
#
#   bench/sim_scale.sh [BUILD_DIR]      (default: build)
#
# Environment: SIZES ("40 400 4000"), SCENARIOS (the six), REPS (3: the
# median of REPS processes where a process takes under 20 s), BIG_TICKS
# (1000; 0 skips the big run). Ends with bench/mem_floor's cost of a
# cache miss at both sizes' working sets, where it is built. Small fleets
# run several runs per process (--runs) so that each process has a few
# million requests to time.
# 579 s on a 2-core VM at load average 8-10. Measures and prints; asserts
# nothing. Run it on an idle machine: quote the load average it prints.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
lbsim=$build/sim/lbsim
sizes=${SIZES:-40 400 4000}
reps=${REPS:-3}
big_ticks=${BIG_TICKS:-1000}
scenarios=(${SCENARIOS:-Random LeastClientRequestsInFlight WeightedMeanUtilization ProbingHcl
  FastestProbe2 CheatPidControlledUtilization})
[ -x "$lbsim" ] || { echo "sim_scale: no $lbsim: build first (cmake --build $build)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "sim_scale: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
pin=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then pin=(taskset -c 0); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One process: prints "requests cpu_s wall_s rss_kb".
measure() { # scenario size runs [extra lbsim args...]
  local s=$1 n=$2 runs=$3
  shift 3
  "${pin[@]}" /usr/bin/time -o "$tmp/time" -f '%U %S %e %M' "$lbsim" "$root/scenarios/$s.yaml" \
    --runs "$runs" --set "servers=$n" --set "clients=$n" "$@" --quiet \
    --summary-csv "$tmp/sum.csv" 2>"$tmp/err" >/dev/null ||
    { echo "sim_scale: lbsim failed on $s at $n:" >&2; cat "$tmp/err" >&2; exit 1; }
  # Sum the runs' `requests` column (probes included).
  local req
  req=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "requests") c = i; next }
                 { r += $c } END { print r }' "$tmp/sum.csv")
  read -r u sy e m <"$tmp/time"
  echo "$req $(awk -v u="$u" -v s="$sy" 'BEGIN { print u + s }') $e $m"
}

echo "lbsim in $build (tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), $(nproc) cores, $(uname -m), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-30s %6s %5s %10s %8s %10s %8s %7s\n' scenario size runs requests cpu_s us_per_req rss_MB ratio
t_start=$(date +%s)
for s in "${scenarios[@]}"; do
  base=""
  for n in $sizes; do
    # About 2 million arrivals a process: 40x40 takes 25 runs, 4000x4000 one.
    runs=$(( 2000000 / (n * 2000) ))
    [ "$runs" -ge 1 ] || runs=1
    best=""
    for ((k = 0; k < reps; k++)); do
      line=$(measure "$s" "$n" "$runs")
      best="$best$line"$'\n'
      # Long processes: once is enough.
      awk -v l="$line" 'BEGIN { split(l, f, " "); exit !(f[3] > 20) }' && break
    done
    # The median by µs per request.
    read -r req cpu wall rss < <(printf '%s' "$best" |
      awk 'NF { print $2 / $1, $0 }' | sort -g | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }' |
      cut -d' ' -f2-)
    us=$(awk -v c="$cpu" -v r="$req" 'BEGIN { printf "%.3f", c / r * 1e6 }')
    [ -n "$base" ] || base=$us
    printf '%-30s %6s %5s %10s %8.2f %10s %8.1f %7.2f\n' "$s" "$n" "$runs" "$req" "$cpu" "$us" \
      "$(awk -v m="$rss" 'BEGIN { print m / 1024 }')" "$(awk -v a="$us" -v b="$base" 'BEGIN { print a / b }')"
  done
done
if [ "$big_ticks" -gt 0 ]; then
  read -r req cpu wall rss < <(measure Random 4000 1 --set "total_ticks=$big_ticks")
  printf 'Random 4000x4000x%s ticks: %s requests, %.1f s CPU, %.1f s wall, %.3f us/request, peak RSS %.0f MB\n' \
    "$big_ticks" "$req" "$cpu" "$wall" "$(awk -v c="$cpu" -v r="$req" 'BEGIN { print c / r * 1e6 }')" \
    "$(awk -v m="$rss" 'BEGIN { print m / 1024 }')"
fi
# What one cache miss costs here, at about a 40x40 run's working set (1-4
# MiB) and a 4,000x4,000 run's (hundreds of MiB): bench/mem_floor.c.
if [ -x "$build/bench/mem_floor" ]; then
  echo "mem_floor (ns per random 64-byte read; load $(cut -d' ' -f1-3 /proc/loadavg)):"
  "${pin[@]}" "$build/bench/mem_floor" 1 4 64 256
fi
echo "sim_scale: $(( $(date +%s) - t_start )) s in all, load $(cut -d' ' -f1-3 /proc/loadavg)"
