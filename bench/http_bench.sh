#!/usr/bin/env bash
# http_bench.sh: lbserver's HTTP/1.1 front driven by wrk, beside its binary
# protocol driven by `lbclient --full-speed` (a benchmark, not a test: it
# measures and prints, it asserts nothing). Each run gets a fresh lbserver
# (no processing, no delay, 16 threads, as bench_daemons.sh's rate) on
# 127.0.0.1, ports from --port-file:
#   binary: lbclient --full-speed --connections C --requests N
#   http:   wrk -t WRK_THREADS -c C -d SECONDS http://127.0.0.1:PORT/
#           (keep-alive, one request outstanding per connection, as the
#           binary client's default; every response carries the ORCA
#           header, ~1.1 KB)
# REPS runs of each, alternating; prints each rate and the server's CPU per
# request (user+sys from its --stats cpu_seconds over its requests), then
# the medians and the ratio. Every run is bounded (wrk -d, lbclient
# --max-runtime, lbserver --max-runtime).
# Usage: bench/http_bench.sh [BUILD_DIR]   (default: ./build)
# Environment: CONNECTIONS (50), REQUESTS (200000), SECONDS_WRK (5),
# WRK_THREADS (2), REPS (3).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-${LB_BINARY_DIR:-$ROOT/build}}
SRV=$B/lbserver/lbserver
CLI=$B/lbclient/lbclient
CONNECTIONS=${CONNECTIONS:-50}
REQUESTS=${REQUESTS:-200000}
SECONDS_WRK=${SECONDS_WRK:-5}
WRK_THREADS=${WRK_THREADS:-2}
REPS=${REPS:-3}
for bin in "$SRV" "$CLI"; do
  [[ -x $bin ]] || { echo "bench: $bin is not built (cmake --build $B)" >&2; exit 1; }
done
command -v wrk > /dev/null || { echo "bench: wrk is not installed (deploy/setup.sh)" >&2; exit 1; }
OUT=$(mktemp -d /tmp/lb-http-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$OUT"
}
trap cleanup EXIT
die() { echo "bench: $*" >&2; exit 1; }
load() { echo "load $(cut -d' ' -f1-3 /proc/loadavg)"; }
median() { python3 -c 'import statistics, sys; print("%.2f" % statistics.median(map(float, sys.argv[1:])))' "$@"; }

cat > "$OUT/rate.yaml" <<YAML
name: bench-http
picker: random
servers: 1
clients: 64
tick: 1ms
delay: none
cold_channel_penalty: 0
server_reset_probability: 0
YAML

start_server() { # sets SERVER_PID, TCP, UDP, HTTP
  rm -f "$OUT/port" "$OUT/stats"
  "$SRV" --scenario "$OUT/rate.yaml" --index 0 --threads 16 --processing-time 0 --rtt 0 \
    --http-port 0 --port-file "$OUT/port" --stats "$OUT/stats" --max-runtime 300 \
    --log-level warn 2> "$OUT/server.err" &
  SERVER_PID=$!
  PIDS+=($SERVER_PID)
  local end=$((SECONDS + 20))
  until [[ -s $OUT/port ]]; do
    ((SECONDS < end)) || die "lbserver did not start: $(cat "$OUT/server.err")"
    sleep 0.02
  done
  TCP=$(sed -n 's/.*tcp=\([0-9]*\).*/\1/p' "$OUT/port")
  UDP=$(sed -n 's/.*udp=\([0-9]*\).*/\1/p' "$OUT/port")
  HTTP=$(sed -n 's/.*http=\([0-9]*\).*/\1/p' "$OUT/port")
}
stop_server() { # prints the server's CPU us per request
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  python3 -c 'import sys
kv=dict(l.strip().split("=",1) for l in open(sys.argv[1]) if "=" in l)
c = float(kv["cpu_seconds"]); n = max(1, int(kv["requests"]))
print("%.2f" % (c * 1e6 / n))' "$OUT/stats"
}

binary_once() {
  start_server
  "$CLI" --full-speed --servers "127.0.0.1:$TCP:$UDP" --connections "$CONNECTIONS" \
    --requests "$REQUESTS" --max-runtime 120 --log-level warn > "$OUT/binary.txt"
  local cpu rate
  cpu=$(stop_server)
  rate=$(sed -n 's/^requests\/s: \([0-9.]*\).*/\1/p' "$OUT/binary.txt")
  echo "  binary (lbclient --full-speed -c $CONNECTIONS): $rate req/s, server ${cpu} us CPU/request ($(load))" >&2
  echo "$rate $cpu"
}
http_once() {
  start_server
  wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "${SECONDS_WRK}s" --timeout 5s \
    "http://127.0.0.1:$HTTP/" > "$OUT/wrk.txt"
  local cpu rate lat errs
  cpu=$(stop_server)
  rate=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$OUT/wrk.txt")
  lat=$(awk '$1 == "Latency" { print $2 }' "$OUT/wrk.txt")
  errs=$(grep -c "Non-2xx\|Socket errors" "$OUT/wrk.txt" || true)
  ((errs > 0)) || errs=""
  echo "  http (wrk -t$WRK_THREADS -c$CONNECTIONS -d${SECONDS_WRK}s): $rate req/s, latency avg $lat, server ${cpu} us CPU/request${errs:+, error lines $errs} ($(load))" >&2
  echo "$rate $cpu"
}

echo "# http_bench on $(hostname), $(nproc) cores, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?), $(load)"
BR=() BC=() HR=() HC=()
for ((rep = 0; rep < REPS; rep++)); do
  read -r r c < <(binary_once)
  BR+=("$r") BC+=("$c")
  read -r r c < <(http_once)
  HR+=("$r") HC+=("$c")
done
mb=$(median "${BR[@]}") mh=$(median "${HR[@]}")
echo "binary: median $mb req/s, server $(median "${BC[@]}") us CPU/request"
echo "http:   median $mh req/s, server $(median "${HC[@]}") us CPU/request"
python3 -c 'import sys; print(f"http/binary: {float(sys.argv[2])/float(sys.argv[1]):.2f}x")' "$mb" "$mh"
