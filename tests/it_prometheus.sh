#!/usr/bin/env bash
# A real Prometheus server (Debian's prometheus) scrapes a small fleet on
# loopback (2 lbservers with --metrics-port, 2 lbclients with --metrics-port
# and --metrics-linger) every 200 ms; the totals queried through its HTTP
# API equal the daemons' stats files: the clients' completed, failed,
# timed_out and sent, the servers' completed, rejected and received
# requests, and the latency histogram's count. promtool lints each
# endpoint's exposition. Prometheus's storage is a temporary folder,
# removed at the end with everything else; every wait is bounded.
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
SRV=$B/lbserver/lbserver
CLI=$B/lbclient/lbclient
for bin in "$SRV" "$CLI"; do [[ -x $bin ]] || { echo "FAIL: $bin is not built"; exit 1; }; done
for tool in prometheus promtool curl python3; do
  command -v $tool >/dev/null || { echo "FAIL: $tool is not installed (deploy/setup.sh)"; exit 1; }
done
make_out lb-prometheus # removed, with every process of this test, on exit
fail() {
  echo "FAIL: $*"
  for f in "$OUT"/*.err; do [[ -f $f ]] && { echo "--- $f"; tail -15 "$f"; }; done
  exit 1
}
stat_of() { sed -n "s/^$2=//p" "$1"; }
free_ports() { # N: N ports free now on 127.0.0.1
  python3 -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

cat > "$OUT/s.yaml" <<YAML
name: prometheus-scrape
picker: random
servers: 2
clients: 2
subset_size: 0
tick: 5ms
total_ticks: 400
mean_threads: 4
target_utilization: 0.6
max_queue: 3
runs: 1
seed: 9
YAML
read -r PROM_PORT CPORT0 CPORT1 < <(free_ports 3)

SERVERS=""
for i in 0 1; do
  "$SRV" --scenario "$OUT/s.yaml" --index "$i" --metrics-port 0 --port-file "$OUT/port$i" \
    --stats "$OUT/server$i.stats" --max-runtime 120 2> "$OUT/server$i.err" &
  SPID[$i]=$!
done
for i in 0 1; do
  wait_for "server $i's port file" 20 test -s "$OUT/port$i"
  p() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" "$OUT/port$i"; }
  SERVERS+="${SERVERS:+,}127.0.0.1:$(p tcp):$(p udp)"
  SMETRICS[$i]=127.0.0.1:$(p metrics)
done

cat > "$OUT/prometheus.yml" <<YAML
global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
scrape_configs:
  - job_name: lbserver
    static_configs:
      - targets: ['${SMETRICS[0]}', '${SMETRICS[1]}']
  - job_name: lbclient
    static_configs:
      - targets: ['127.0.0.1:$CPORT0', '127.0.0.1:$CPORT1']
YAML
prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$OUT/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.retention.time=1h \
  2> "$OUT/prometheus.err" &
API=http://127.0.0.1:$PROM_PORT
wait_for "Prometheus to be ready" 60 curl -sf -o /dev/null "$API/-/ready"

# query PROMQL: the single value of an instant query ("" when none)
query() {
  curl -sf --max-time 5 --get --data-urlencode "query=$1" "$API/api/v1/query" |
    python3 -c 'import json,sys
r=json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r)==1 else "")'
}
# equals PROMQL VALUE: Prometheus's latest value of PROMQL is VALUE
equals() {
  local got
  got=$(query "$1") || return 1
  [[ -n $got ]] && python3 -c 'import sys; sys.exit(float(sys.argv[1]) != float(sys.argv[2]))' "$got" "$2"
}
expect_scraped() { # PROMQL VALUE
  wait_for "Prometheus to show $1 == $2 (last: $(query "$1" || true))" 20 equals "$1" "$2"
}

for i in 0 1; do
  "$CLI" --scenario "$OUT/s.yaml" --clients "$i" --servers "$SERVERS" --log "$OUT/client$i.csv" \
    --stats "$OUT/client$i.stats" --metrics-port "$((i == 0 ? CPORT0 : CPORT1))" \
    --metrics-linger 60 --max-runtime 60 > "$OUT/client$i.out" 2> "$OUT/client$i.err" &
  CPID[$i]=$!
done
# Lint the expositions while everything runs.
for target in "${SMETRICS[@]}" "127.0.0.1:$CPORT0"; do
  wait_for "metrics at $target" 20 curl -sf -o "$OUT/expo" "http://$target/metrics"
  promtool check metrics < "$OUT/expo" > "$OUT/lint" 2>&1 || fail "promtool on $target: $(cat "$OUT/lint")"
done
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://${SMETRICS[0]}/other") == 404 ]] ||
  fail "a path other than /metrics is not 404"

# ---- the clients: stats written before they linger ----
for i in 0 1; do wait_for "client $i's stats" 60 test -s "$OUT/client$i.stats"; done
sum_clients() { echo $(($(stat_of "$OUT/client0.stats" "$1") + $(stat_of "$OUT/client1.stats" "$1"))); }
sent=$(sum_clients sent)
((sent > 50)) || fail "the clients sent only $sent requests"
for outcome in completed failed timed_out; do
  expect_scraped "sum(lbtestbed_client_requests_total{outcome=\"$outcome\"})" "$(sum_clients $outcome)"
done
expect_scraped 'sum(lbtestbed_client_sent_total)' "$sent"
expect_scraped 'sum(lbtestbed_client_requests_in_flight)' 0
probes=$(sum_clients probes)
expect_scraped 'sum(lbtestbed_client_request_latency_seconds_count)' \
  "$(($(sum_clients completed) - probes))"
for i in 0 1; do
  kill -TERM "${CPID[$i]}"
  rc=0
  wait "${CPID[$i]}" || rc=$?
  ((rc == 0)) || fail "client $i exited $rc after its linger was cut short"
done

# ---- the servers: idle now; stats at exit ----
expect_scraped 'sum(lbtestbed_server_requests_outstanding)' 0
for i in 0 1; do
  kill -TERM "${SPID[$i]}"
  wait "${SPID[$i]}" || fail "server $i exited non-zero"
done
sum_servers() { echo $(($(stat_of "$OUT/server0.stats" "$1") + $(stat_of "$OUT/server1.stats" "$1"))); }
# The servers are gone: their series are stale, so each counter's last
# value is its largest over the run.
last() { echo "sum(max_over_time($1[5m]))"; }
expect_scraped "$(last 'lbtestbed_server_requests_total{outcome="completed"}')" "$(sum_servers completed)"
expect_scraped "$(last 'lbtestbed_server_requests_total{outcome="rejected"}')" "$(sum_servers rejected)"
expect_scraped "$(last 'lbtestbed_server_received_total{kind="request"}')" "$(sum_servers requests)"
expect_scraped "$(last 'lbtestbed_server_connections_total{protocol="tcp"}')" "$(sum_servers connections)"
# Every request a client sent reached a server and was answered.
[[ $(sum_servers requests) == "$sent" ]] || fail "servers received $(sum_servers requests), clients sent $sent"
count=$(query "$(last lbtestbed_server_request_duration_seconds_count)")
inf=$(query "$(last 'lbtestbed_server_request_duration_seconds_bucket{le="+Inf"}')")
[[ -n $count && $count == "$inf" ]] || fail "histogram: _count $count, +Inf bucket $inf"
echo "PASS: Prometheus scraped the fleet: sent=$sent completed=$(sum_clients completed) rejected=$(sum_servers rejected)"
