#!/usr/bin/env bash
# fleet_bench.sh: CPU per modelled request of a real fleet at the seed's
# defaults (a benchmark: it measures and prints, it asserts nothing).
#   1. one `lbharness run` of SCENARIO (default scenarios/Random.yaml: 40
#      servers of ~100 threads, 40 clients, 170 ticks) at TICK (40ms), one
#      run; CPU seconds of every client and server process (their --stats
#      cpu_seconds: getrusage at exit) over the requests completed:
#        cpu_us_per_request total=T client=C server=S
#      with the run's validity line from the harness;
#   2. in the same run, the full-speed path: one lbserver (no processing, no
#      delay) driven by `lbclient --full-speed` (50 connections, REQUESTS
#      requests): the CPU of both over the requests answered, the floor of
#      what a request costs on this machine without timers or threads.
# Usage: bench/fleet_bench.sh [BUILD_DIR]   (default: ./build)
# Environment: SCENARIO, TICK (40ms), REQUESTS (200000), KEEP=1 keeps the
# run's folder. The load average and commit are printed beside the figures.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-${LB_BINARY_DIR:-$ROOT/build}}
SCENARIO=${SCENARIO:-$ROOT/scenarios/Random.yaml}
TICK=${TICK:-40ms}
REQUESTS=${REQUESTS:-200000}
H=$B/harness/lbharness SRV=$B/lbserver/lbserver CLI=$B/lbclient/lbclient
for bin in "$H" "$SRV" "$CLI"; do
  [[ -x $bin ]] || { echo "fleet_bench: $bin is not built (cmake --build $B)" >&2; exit 1; }
done
OUT=$(mktemp -d /tmp/lb-fleet-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  [[ -z $SERVER_PID ]] || { kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  [[ -n ${KEEP:-} ]] && echo "kept: $OUT" || rm -rf "$OUT"
}
trap cleanup EXIT
die() { echo "fleet_bench: $*" >&2; exit 1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
sum_key() { # KEY FILE...: the sum of KEY=value over the files
  awk -F= -v k="$1" '$1 == k { s += $2 } END { printf "%.6f", s }' "${@:2}"
}
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "# fleet_bench at $commit on $(hostname), $(nproc) cores, load $(load)"

# ---- 1. the fleet ----
name=$(sed -n 's/^name: *//p' "$SCENARIO" | head -n 1)
echo "fleet: $H run $SCENARIO --set tick=$TICK --set runs=1"
start=$(date +%s.%N)
"$H" run "$SCENARIO" --set tick="$TICK" --set runs=1 --out "$OUT/fleet" --quiet > "$OUT/fleet.txt" 2>&1 ||
  { cat "$OUT/fleet.txt"; die "lbharness run failed"; }
wall=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
RUN=$OUT/fleet/$name/real/run-0
completed=$(sum_key completed "$RUN"/client-*.stats)
client_cpu=$(sum_key cpu_seconds "$RUN"/client-*.stats)
server_cpu=$(sum_key cpu_seconds "$RUN"/server-*.stats)
python3 - "$completed" "$client_cpu" "$server_cpu" <<'PY'
import sys
n, c, s = (float(x) for x in sys.argv[1:])
if n <= 0:
    sys.exit("fleet_bench: no request completed")
print(f"cpu_us_per_request total={(c + s) / n * 1e6:.1f} client={c / n * 1e6:.1f} "
      f"server={s / n * 1e6:.1f} ({n:.0f} requests completed; CPU s: clients {c:.2f}, "
      f"servers {s:.2f})")
PY
grep -E '^ +0 ' "$OUT/fleet.txt" | sed 's/^/  run: /' || true
grep -E 'not valid' "$OUT/fleet.txt" | sed 's/^/  /' || echo "  the run is valid"
echo "  wall ${wall} s, load $(load)"

# ---- 2. the full-speed path ----
cat > "$OUT/rate.yaml" <<YAML
name: fleet-bench-rate
picker: random
servers: 1
clients: 1
tick: 1ms
delay: none
cold_channel_penalty: 0
server_reset_probability: 0
YAML
"$SRV" --scenario "$OUT/rate.yaml" --index 0 --threads 16 --processing-time 0 --rtt 0 \
  --port-file "$OUT/rate.port" --stats "$OUT/rate-server.stats" --max-runtime 300 \
  --log-level warn 2> "$OUT/rate-server.err" &
SERVER_PID=$!
for _ in $(seq 400); do [[ -s $OUT/rate.port ]] && break; sleep 0.05; done
[[ -s $OUT/rate.port ]] || die "lbserver did not start: $(cat "$OUT/rate-server.err")"
tcp=$(sed -n 's/.*tcp=\([0-9]*\).*/\1/p' "$OUT/rate.port")
udp=$(sed -n 's/.*udp=\([0-9]*\).*/\1/p' "$OUT/rate.port")
/usr/bin/time -f "%U %S" -o "$OUT/rate-client.time" "$CLI" --full-speed \
  --servers "127.0.0.1:$tcp:$udp" --connections 50 --requests "$REQUESTS" --max-runtime 120 \
  --log-level warn > "$OUT/rate.txt"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
SERVER_PID=""
python3 - "$REQUESTS" "$(cat "$OUT/rate-client.time")" "$(sum_key cpu_seconds "$OUT/rate-server.stats")" \
  "$(tr '\n' ' ' < "$OUT/rate.txt")" <<'PY'
import sys
n = float(sys.argv[1])
cu, cs = (float(x) for x in sys.argv[2].split())
s = float(sys.argv[3])
c = cu + cs
print(f"full_speed_cpu_us_per_request total={(c + s) / n * 1e6:.1f} client={c / n * 1e6:.1f} "
      f"server={s / n * 1e6:.1f} ({sys.argv[4].strip()})")
PY
echo "  load $(load)"
