#!/usr/bin/env bash
# bench_daemons.sh: performance of lbserver/lbclient on loopback (a
# benchmark, not a test: it measures and prints, it asserts nothing).
#   1. request rate: one lbserver (no processing, no delay, enough threads)
#      driven by `lbclient --full-speed` over 50 connections, next to
#      `redis-benchmark -t ping_mbulk -c 50 -n 200000 -q` against a private
#      redis-server on a free port, REPS times each, alternating; every rate,
#      the medians and their ratio;
#   2. overhead: per-request real latency minus the model's latency
#      (drawn send + response delays + reported processing), p50 and p99 in
#      microseconds, (a) with the model's delays and processing at half the
#      server's modelled capacity (target_utilization 0.5, the seed's
#      arrivals: every request intended at a tick boundary; with the timed
#      waits waking 50 us early and spinning, and, for comparison, sleeping
#      all the way), (b) and (c) with
#      no processing and no delay at 1/2 and 1/4 of the rate measured in 1;
#      lbclient keeps the seed's order within a tick (arrivals taken 0.1
#      tick after their boundary, send delay counted from the start of the
#      pick's tick): with the seed's arrivals real - modelled is the
#      testbed's own time; with Poisson arrivals (ARRIVALS_A=poisson, and
#      (b), (c)) it also holds where in its tick a request was intended
#      (-1 to +0.1 tick), so (b) and (c) also print pick-to-completion; the
#      timed waits' lateness is printed beside;
#      beside (a) and (a0), in the same seconds, the host's floor: the
#      lateness of a bare absolute-time timer in a separate process
#      (cyclictest from Debian's rt-tests: clock_nanosleep TIMER_ABSTIME,
#      1 ms interval, normal priority as the daemons run), and the ratio of
#      the overhead's p99 to the floor's p99;
#   3. resident size (VmRSS) of one idle lbserver with 100 threads.
# Usage: bench/bench_daemons.sh [BUILD_DIR]   (default: ./build)
# Environment: REQUESTS (200000), CONNECTIONS (50), SECONDS_2 (3), REPS (3),
# ARRIVALS_A (seed; or poisson) for (a).
# The load average is printed beside each figure: on a shared machine it
# says how much the figure is worth.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-${LB_BINARY_DIR:-$ROOT/build}}
SRV=$B/lbserver/lbserver
CLI=$B/lbclient/lbclient
REQUESTS=${REQUESTS:-200000}
CONNECTIONS=${CONNECTIONS:-50}
SECONDS_2=${SECONDS_2:-3}
REPS=${REPS:-3}
for bin in "$SRV" "$CLI"; do
  [[ -x $bin ]] || { echo "bench: $bin is not built (cmake --build $B)" >&2; exit 1; }
done
OUT=$(mktemp -d /tmp/lb-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n ${KEEP:-} ]] || rm -rf "$OUT"
}
trap cleanup EXIT
die() { echo "bench: $*" >&2; exit 1; }

wait_file() { # FILE SECONDS
  local end=$((SECONDS + $2))
  until [[ -s $1 ]]; do
    ((SECONDS < end)) || die "timed out waiting for $1"
    sleep 0.02
  done
}

start_server() { # NAME SCENARIO ARGS...: sets SERVER_PID, SERVER_ADDR
  local name=$1 sc=$2
  shift 2
  rm -f "$OUT/$name.port"
  "$SRV" --scenario "$sc" --index 0 --port-file "$OUT/$name.port" --max-runtime 300 \
    --log-level warn "$@" 2> "$OUT/$name.err" &
  SERVER_PID=$!
  PIDS+=($SERVER_PID)
  wait_file "$OUT/$name.port" 20
  local tcp udp
  tcp=$(sed -n 's/.*tcp=\([0-9]*\).*/\1/p' "$OUT/$name.port")
  udp=$(sed -n 's/.*udp=\([0-9]*\).*/\1/p' "$OUT/$name.port")
  SERVER_ADDR=127.0.0.1:$tcp:$udp
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

load() { echo "load $(cut -d' ' -f1-3 /proc/loadavg)"; }
median() { python3 -c 'import statistics, sys; print(f"{statistics.median(map(float, sys.argv[1:])):.0f}")' "$@"; }
echo "# bench_daemons on $(hostname), $(nproc) cores, $(uname -r), $(load)"

# ---- 1. request rate ----
cat > "$OUT/rate.yaml" <<YAML
name: bench-rate
picker: random
servers: 1
clients: 1
tick: 1ms
delay: none
cold_channel_penalty: 0
server_reset_probability: 0
YAML
lb_rate_once() { # prints the rate
  start_server rate "$OUT/rate.yaml" --threads 16 --processing-time 0 --rtt 0
  "$CLI" --full-speed --servers "$SERVER_ADDR" --connections "$CONNECTIONS" --requests "$REQUESTS" \
    --max-runtime 120 --log-level warn > "$OUT/rate.txt"
  stop_server
  echo "  lbserver+lbclient --full-speed: $(cat "$OUT/rate.txt") ($(load))" >&2
  sed -n 's/^requests\/s: \([0-9.]*\).*/\1/p' "$OUT/rate.txt"
}

HAVE_REDIS=""
if command -v redis-server > /dev/null && command -v redis-benchmark > /dev/null; then
  HAVE_REDIS=1
  RPORT=$(free_port)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$OUT" --logfile "$OUT/redis.log" &
  RPID=$!
  PIDS+=($RPID)
  end=$((SECONDS + 20))
  until redis-cli -p "$RPORT" ping > /dev/null 2>&1; do
    ((SECONDS < end)) || die "redis-server did not start"
    sleep 0.05
  done
else
  echo "redis-benchmark: not installed, skipped (Debian: apt-get install redis-server redis-tools)"
fi
redis_rate_once() { # prints the rate
  redis-benchmark -p "$RPORT" -t ping_mbulk -c "$CONNECTIONS" -n "$REQUESTS" -q > "$OUT/redis.txt" 2>&1
  local r
  r=$(tr '\r' '\n' < "$OUT/redis.txt" | sed -n 's/^PING_MBULK: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
  echo "  redis-benchmark -t ping_mbulk -c $CONNECTIONS -n $REQUESTS: ${r:-?} requests/s ($(load))" >&2
  echo "$r"
}

LB_RATES=() REDIS_RATES=()
for ((rep = 0; rep < REPS; rep++)); do
  LB_RATES+=("$(lb_rate_once)")
  [[ -z $HAVE_REDIS ]] || REDIS_RATES+=("$(redis_rate_once)")
done
if [[ -n $HAVE_REDIS ]]; then
  kill -TERM "$RPID"
  wait "$RPID" 2>/dev/null || true
fi
LB_RATE=$(median "${LB_RATES[@]}")
if [[ -n $HAVE_REDIS ]]; then
  REDIS_RATE=$(median "${REDIS_RATES[@]}")
  python3 -c "print(f'request rate, medians of $REPS: lbtestbed {float($LB_RATE):.0f}/s, redis {float($REDIS_RATE):.0f}/s, ratio lbtestbed/redis = {float($LB_RATE)/float($REDIS_RATE):.2f}')"
else
  echo "request rate, median of $REPS: lbtestbed $LB_RATE/s"
fi

# ---- 2. overhead ----
overhead() { # LOG TICK_NS LABEL [rt: also from the pick]
  python3 - "$1" "$2" "$3 ($(load))" ${4:+"$4"} <<'PY'
import csv, sys
path, tick_ns, label = sys.argv[1], float(sys.argv[2]), sys.argv[3]
with_rt = len(sys.argv) > 4
def q(v, p):
    v = sorted(v)
    if not v:
        return float("nan")
    x = p * (len(v) - 1)
    lo = int(x)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (x - lo)
over, over_nq, rt, n, bad = [], [], [], 0, 0
for r in csv.DictReader(open(path)):
    if r["outcome"] != "completed":
        bad += 1
        continue
    if r["is_probe"] == "True":
        continue
    n += 1
    real = int(r["completion_ns"]) - int(r["intended_ns"])
    modelled = float(r["modelled_ticks"]) * tick_ns
    queue = float(r["server_queue_ticks"]) * tick_ns
    over.append((real - modelled) / 1e3)
    over_nq.append((real - modelled - queue) / 1e3)
    rt.append((int(r["completion_ns"]) - int(r["send_ns"]) - modelled) / 1e3)
open(path + ".overhead", "w").write(f"{q(over, .5)} {q(over, .99)}\n")
print(f"overhead {label}\n  real - modelled: p50 {q(over, .5):.0f} us, p99 {q(over, .99):.0f} us "
      f"({n} requests, {bad} not completed); without the server queue: "
      f"p50 {q(over_nq, .5):.0f} us, p99 {q(over_nq, .99):.0f} us")
if with_rt:
    print(f"  from the pick (send_ns) to completion, minus modelled: p50 {q(rt, .5):.0f} us, "
          f"p99 {q(rt, .99):.0f} us")
PY
}

# (a) the model's delays and processing, half the modelled capacity
TICKS_A=$((SECONDS_2 * 1000))
cat > "$OUT/half.yaml" <<YAML
name: bench-half-capacity
picker: random
servers: 1
clients: 4
subset_size: 0
tick: 1ms
total_ticks: $TICKS_A
mean_threads: 20
mean_processing_time: 4
mean_channel_rtt: 2
mean_server_rtt: 2
target_utilization: 0.5
arrivals: ${ARRIVALS_A:-seed}
delay: inproc
cold_channel_penalty: 0
server_reset_probability: 0
network_reset_probability: 0
seed: 1
YAML
client_late() { # NAME: the client's timer and send lateness and CPU, from its --stats
  sed -n 's/^\(timer_lateness_p[0-9]*_us\|send_lateness_p[0-9]*_us\|cpu_seconds\)=/client_\1=/p' \
    "$OUT/$1.stats" | tr '\n' ' '
}
HAVE_CYCLICTEST=""
if command -v cyclictest > /dev/null; then
  HAVE_CYCLICTEST=1
else
  echo "cyclictest: not installed, the host's floor is not measured (Debian: apt-get install rt-tests)"
fi
floor_start() { # NAME: a bare absolute timer, 1 ms apart, for the seconds of (a)
  [[ -n $HAVE_CYCLICTEST ]] || return 0
  cyclictest -q -t1 -i 1000 -l "$TICKS_A" -h 100000 --histfile="$OUT/$1.floor" > /dev/null 2>&1 &
  FLOOR_PID=$!
  PIDS+=($FLOOR_PID)
}
floor_report() { # NAME: the floor's quantiles and the overhead's p99 over it
  [[ -n $HAVE_CYCLICTEST ]] || return 0
  wait "$FLOOR_PID" || true
  python3 - "$OUT/$1.floor" "$OUT/$1.csv.overhead" <<'PY'
import sys
hist, over = {}, 0
maxlat = 0
for line in open(sys.argv[1]):
    if line.startswith("# Max Latencies:"):
        maxlat = int(line.split(":")[1])
    elif line.startswith("# Histogram Overflows:"):
        over = int(line.split(":")[1])
    elif not line.startswith("#") and line.strip():
        us, n = line.split()[:2]
        if int(n):
            hist[int(us)] = int(n)
total = sum(hist.values()) + over
def q(p):
    k, seen = p * (total - 1), 0
    for us in sorted(hist):
        seen += hist[us]
        if seen > k:
            return us
    return maxlat
p50, p99 = q(0.5), q(0.99)
o50, o99 = (float(x) for x in open(sys.argv[2]).read().split())
print(f"  host floor (cyclictest, a bare absolute timer in its own process, {total} wake-ups): "
      f"p50 {p50} us, p99 {p99} us, max {maxlat} us")
print(f"  overhead p50 {o50:.0f} us (target <= 100); overhead p99 / floor p99 = {o99:.0f} / {p99} = "
      f"{o99 / max(p99, 1):.2f} (target <= 2)")
PY
}
half_run() { # NAME WAKE_EARLY_US LABEL
  local name=$1 wake=$2 label=$3
  start_server "$name" "$OUT/half.yaml" --threads 20 --processing-time 4 --wake-early-us "$wake" \
    --stats "$OUT/$name.sstats"
  floor_start "$name"
  "$CLI" --scenario "$OUT/half.yaml" --clients 0:4 --servers "$SERVER_ADDR" --log "$OUT/$name.csv" \
    --stats "$OUT/$name.stats" --max-runtime 120 --log-level warn --wake-early-us "$wake" \
    > "$OUT/$name.out"
  stop_server
  overhead "$OUT/$name.csv" 1000000 "$label"
  echo "  timed waits: $(client_late "$name")server $(grep -E '^(work|hold)_late_p(50|99)_ns=' "$OUT/$name.sstats" | tr '\n' ' ')"
  floor_report "$name"
}
half_run half 50 "(a) 20 threads x 4 ticks of 1 ms at utilization 0.5, in-process delay, --wake-early-us 50 (client and server)"
half_run half0 0 "(a0) the same, --wake-early-us 0 (client and server: sleep to each deadline)"

# (b), (c): no processing, no delay, at 1/2 and 1/4 of the rate measured in 1
rate_run() { # NAME FRACTION LABEL
  local name=$1 frac=$2 label=$3 per_tick
  per_tick=$(python3 -c "print(float($LB_RATE) * $frac / 1000)")
  cat > "$OUT/$name.yaml" <<YAML
name: bench-$name
picker: random
servers: 1
clients: 1
tick: 1ms
total_ticks: $TICKS_A
mean_requests_per_server_per_tick: $per_tick
arrivals: poisson
delay: none
cold_channel_penalty: 0
server_reset_probability: 0
seed: 1
YAML
  start_server "$name" "$OUT/$name.yaml" --threads 16 --processing-time 0 --rtt 0
  "$CLI" --scenario "$OUT/$name.yaml" --clients 0:1 --servers "$SERVER_ADDR" \
    --log "$OUT/$name.csv" --stats "$OUT/$name.stats" --max-runtime 120 --log-level warn \
    > "$OUT/$name.out"
  stop_server
  overhead "$OUT/$name.csv" 1000000 "$label no processing, no delay, $per_tick requests/ms" rt
  echo "  $(client_late "$name")"
}
if [[ -n $LB_RATE ]]; then
  rate_run halfrate 0.5 "(b)"
  rate_run quarterrate 0.25 "(c)"
fi

# ---- 3. resident size of an idle lbserver with 100 threads ----
start_server idle "$OUT/rate.yaml" --threads 100
sleep 0.5 # let it settle; this measures, it does not synchronise
RSS=$(sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$SERVER_PID/status")
THREADS=$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$SERVER_PID/status")
stop_server
echo "idle lbserver --threads 100: VmRSS $RSS ($THREADS OS threads)"
