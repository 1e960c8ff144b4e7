#!/usr/bin/env bash
# lbserver's HTTP/1.1 front (--http-port) driven by curl on loopback:
#  1. a bare GET / answers 200 with endpoint-load-metrics: TEXT ... (every
#     field of the report), x-lb-requests-in-flight and x-lb-latency-estimate;
#     POST /work with x-lb-* headers; 404, 405 and 400 as documented;
#  2. the values change with load: with 2 threads and 8 clients looping, a
#     request sees other requests in flight and cpu_utilization rises above
#     the idle server's;
#  3. keep-alive: curl reuses one connection for several URLs;
#  4. SIGTERM while requests are in flight: each is answered, exit 0, and
#     the stats file counts the HTTP requests with the binary protocol's.
# Waits are for conditions, bounded by timeouts.
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
SRV=$B/lbserver/lbserver
[[ -x $SRV ]] || { echo "FAIL: $SRV is not built"; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl is not installed (deploy/setup.sh)"; exit 1; }
make_out lbserver-http # removed, with every process of this test, on exit
fail() {
  echo "FAIL: $*"
  [[ -f $OUT/server.err ]] && { echo "--- server.err"; tail -20 "$OUT/server.err"; }
  exit 1
}
header() { # FILE NAME: the value of header NAME in a curl -si dump
  sed -n "s/^$2: \(.*\)\r\$/\1/Ip" "$1" | head -1
}
metric() { # FILE NAME: the value of NAME in the ORCA header
  header "$1" endpoint-load-metrics | tr ',' '\n' | sed -n "s/^ *\(TEXT \)\{0,1\}$2:\(.*\)/\2/p"
}

cat > "$OUT/s.yaml" <<YAML
name: http-front
picker: random
servers: 1
clients: 8
tick: 10ms
total_ticks: 3000
mean_processing_time: 4
seed: 5
YAML
"$SRV" --scenario "$OUT/s.yaml" --index 0 --threads 2 --http-port 0 --port-file "$OUT/port" \
  --stats "$OUT/stats" --max-runtime 60 2> "$OUT/server.err" &
SERVER=$!
wait_for "the port file" 20 test -s "$OUT/port"
HTTP=$(sed -n 's/.*http=\([0-9]*\).*/\1/p' "$OUT/port")
[[ -n $HTTP ]] || fail "no http= in the port file: $(cat "$OUT/port")"
URL=http://127.0.0.1:$HTTP
CURL=(curl -s --max-time 10)

# ---- 1. one request at a time ----
"${CURL[@]}" -i "$URL/" > "$OUT/idle" || fail "GET / failed"
head -1 "$OUT/idle" | grep -q '^HTTP/1.1 200' || fail "GET /: $(head -1 "$OUT/idle")"
grep -q '^endpoint-load-metrics: TEXT cpu_utilization:' "$OUT/idle" || fail "no ORCA header"
for m in rps_fractional eps named_metrics.utilization.ewma named_metrics.requests_in_flight.valid \
  named_metrics.latency.mean named_metrics.threads named_metrics.server named_metrics.resets \
  named_metrics.probe_latency named_metrics.pid_weight; do
  [[ -n $(metric "$OUT/idle" "$m") ]] || fail "no $m in $(header "$OUT/idle" endpoint-load-metrics)"
done
[[ $(metric "$OUT/idle" named_metrics.threads) == 2 ]] || fail "threads is not 2"
[[ -n $(header "$OUT/idle" x-lb-requests-in-flight) ]] || fail "no x-lb-requests-in-flight"
[[ -n $(header "$OUT/idle" x-lb-latency-estimate) ]] || fail "no x-lb-latency-estimate"
IDLE_CPU=$(metric "$OUT/idle" cpu_utilization)

"${CURL[@]}" -i -X POST -H 'x-lb-client: 5' -H 'x-lb-probe: 1' --data-binary 'ignored' \
  "$URL/work" > "$OUT/probe" || fail "POST /work failed"
head -1 "$OUT/probe" | grep -q '^HTTP/1.1 200' || fail "POST /work: $(head -1 "$OUT/probe")"
[[ $(metric "$OUT/probe" named_metrics.has_probe_answer) == 1 ]] || fail "a probe without its answer"
code() { "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@"; }
[[ $(code "$URL/nope") == 404 ]] || fail "/nope is not 404"
[[ $(code -X DELETE "$URL/work") == 405 ]] || fail "DELETE is not 405"
[[ $(code -H 'x-lb-probe: yes' "$URL/") == 400 ]] || fail "a bad header is not 400"
[[ $(code -H 'x-lb-client: 99' "$URL/") == 400 ]] || fail "client 99 of 8 is not 400"

# ---- 2. under load ----
for i in 0 1 2 3 4 5 6 7; do
  (for _ in $(seq 40); do curl -s --max-time 10 -o /dev/null -H "x-lb-client: $i" "$URL/" || exit 0; done) &
  LOAD+=($!)
done
busy() {
  "${CURL[@]}" -i "$URL/" > "$OUT/busy" || return 1
  local rif cpu
  rif=$(header "$OUT/busy" x-lb-requests-in-flight)
  cpu=$(metric "$OUT/busy" cpu_utilization)
  ((rif >= 2)) && awk -v a="$cpu" -v b="$IDLE_CPU" 'BEGIN { exit !(a > b + 0.2) }'
}
wait_for "requests in flight and a busier cpu_utilization than $IDLE_CPU" 30 busy
for pid in "${LOAD[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done

# ---- 3. keep-alive: several requests, one connection ----
"${CURL[@]}" -v -o /dev/null -o /dev/null -o /dev/null "$URL/" "$URL/work" "$URL/" \
  2> "$OUT/keepalive" || fail "three requests on one connection failed"
[[ $(grep -c '^\* Connected to' "$OUT/keepalive") == 1 ]] ||
  fail "curl opened $(grep -c '^\* Connected to' "$OUT/keepalive") connections for 3 requests"
grep -q 'Re-using existing connection' "$OUT/keepalive" || fail "no connection reuse"

# ---- 4. SIGTERM with requests in flight ----
# Each held 1.5 s after processing (x-lb-response-delay-ns): in flight when
# the signal comes once their connections are up and one more request,
# read after theirs, has been answered.
for i in 0 1 2 3 4 5; do
  "${CURL[@]}" -H 'x-lb-response-delay-ns: 1500000000' -o "$OUT/last$i" -w '%{http_code}\n' \
    "$URL/" > "$OUT/code$i" &
  LAST+=($!)
done
established() { (($(ss -Htn state established "( sport = :$HTTP )" | wc -l) >= 6)); }
wait_for "6 connections to the HTTP port" 10 established
"${CURL[@]}" -o /dev/null "$URL/" || fail "a request beside the held ones failed"
kill -TERM "$SERVER"
for pid in "${LAST[@]}"; do wait "$pid" || fail "a request in flight at SIGTERM failed"; done
rc=0
wait "$SERVER" || rc=$?
((rc == 0)) || fail "lbserver exited $rc"
for i in 0 1 2 3 4 5; do
  c=$(cat "$OUT/code$i")
  [[ $c == 200 || $c == 503 ]] || fail "request $i at SIGTERM got $c"
done
http=$(sed -n 's/^http_connections=//p' "$OUT/stats")
refused=$(sed -n 's/^http_refused=//p' "$OUT/stats")
requests=$(sed -n 's/^requests=//p' "$OUT/stats")
((http >= 10)) || fail "http_connections=$http"
((refused == 3)) || fail "http_refused=$refused, expected 3 (404, 405, a bad header)"
((requests >= 12)) || fail "requests=$requests"
echo "PASS: lbserver HTTP front (http_connections=$http requests=$requests)"
