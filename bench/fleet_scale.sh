#!/usr/bin/env bash
# fleet_scale.sh: the smallest tick at which a real fleet at the seed's
# per-server rate runs valid on this machine (the harness's fidelity
# guard clean), for fleets of N servers x N clients (a benchmark: it
# measures and prints, it asserts nothing).
# For each N in SIZES (default "8 20 40 80"), runs
#   lbharness run SCENARIO --set servers=N --set clients=N --set tick=T --set runs=1
# for each T in TICKS (default "10ms 20ms 40ms 80ms 160ms 320ms"), smallest
# first, and stops at the first valid run; a table row per N: the tick,
# the fleet's CPU per request at that tick, and why the tick below it was
# not valid.
# Usage: bench/fleet_scale.sh [BUILD_DIR]   (default: ./build)
# Environment: SCENARIO (scenarios/Random.yaml), SIZES, TICKS,
# TOTAL_TICKS (the scenario's), KEEP=1 keeps the runs' folders.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-${LB_BINARY_DIR:-$ROOT/build}}
SCENARIO=${SCENARIO:-$ROOT/scenarios/Random.yaml}
SIZES=${SIZES:-8 20 40 80}
TICKS=${TICKS:-10ms 20ms 40ms 80ms 160ms 320ms}
H=$B/harness/lbharness
[[ -x $H ]] || { echo "fleet_scale: $H is not built (cmake --build $B)" >&2; exit 1; }
OUT=$(mktemp -d /tmp/lb-fleet-scale.XXXXXX)
cleanup() { [[ -n ${KEEP:-} ]] && echo "kept: $OUT" || rm -rf "$OUT"; }
trap cleanup EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
name=$(sed -n 's/^name: *//p' "$SCENARIO" | head -n 1)
extra=()
[[ -z ${TOTAL_TICKS:-} ]] || extra=(--set "total_ticks=$TOTAL_TICKS")
echo "# fleet_scale at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  "on $(hostname), $(nproc) cores, load $(load); $SCENARIO, ticks: $TICKS"
printf '%-9s %-12s %-14s %-10s %s\n' "fleet" "valid from" "cpu us/req" "load" "the tick below: why not valid"
for n in $SIZES; do
  found="" cpu="" why="-"
  for t in $TICKS; do
    dir=$OUT/$n-$t
    "$H" run "$SCENARIO" --set servers="$n" --set clients="$n" --set tick="$t" --set runs=1 \
      "${extra[@]}" --out "$dir" --quiet > "$dir.txt" 2>&1 || { echo "  ${n}x$n at $t: lbharness failed: $(tail -n 1 "$dir.txt")"; continue; }
    run=$dir/$name/real/run-0
    cpu=$(awk -F= '/^completed=/ && FILENAME ~ /client-/ { n += $2 } /^cpu_seconds=/ { c += $2 }
                   END { if (n > 0) printf "%.1f", c / n * 1e6; else print "?" }' \
      "$run"/client-*.stats "$run"/server-*.stats)
    if grep -q 'not valid' "$dir.txt"; then
      why=$(sed -n 's/.*is not valid for comparison: \(.*\) (suggestion.*/\1/p' "$dir.txt" | head -n 1 | cut -c1-90)
      echo "  ${n}x$n at $t: not valid ($why), cpu $cpu us/req, load $(load)" >&2
      continue
    fi
    found=$t
    break
  done
  printf '%-9s %-12s %-14s %-10s %s\n' "${n}x$n" "${found:-none}" "${found:+$cpu}" "$(cut -d' ' -f1 /proc/loadavg)" "$why"
done
