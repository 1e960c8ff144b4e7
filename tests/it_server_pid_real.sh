#!/usr/bin/env bash
# The seed's server PID on a real fleet: with `weighted(server.pid)` the
# harness gives the servers the board, each learns the fleet's mean
# utilization from it, and the PID weight the clients see moves (without the
# board it stayed 0 on every request); the board is gone afterwards.
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
make_out lbh-pid
tiny_scenario "$OUT/tiny.yaml" pid
sed -e 's/^picker: .*/picker: weighted(server.pid)/' -e 's/^tick: .*/tick: 10ms/' \
  -e 's/^total_ticks: .*/total_ticks: 80/' -e 's/^servers: .*/servers: 3/' "$OUT/tiny.yaml" > "$OUT/pid.yaml"
before=$(ls /dev/shm | grep -c '^lbharness-' || true)
timeout -s KILL 120 "$H" run "$OUT/pid.yaml" --out "$OUT/out" --quiet > "$OUT/run.txt" 2>&1 ||
  { cat "$OUT/run.txt"; fail "lbharness run failed"; }
csv=$OUT/out/pid/real/run-0/requests.csv
col=$(head -n 1 "$csv" | tr ',' '\n' | grep -n '^server_pid_weight$' | cut -d: -f1)
[[ -n $col ]] || fail "no server_pid_weight column"
distinct=$(tail -n +2 "$csv" | cut -d, -f"$col" | grep -v '^$' | sort -u | wc -l)
echo "distinct PID weights seen by the clients: $distinct"
((distinct >= 5)) || fail "the server PID weight did not move ($distinct distinct values)"
after=$(ls /dev/shm | grep -c '^lbharness-' || true)
((after <= before)) || fail "a board was left in /dev/shm"
no_strays "after the run"
accounted "$OUT/out/pid/real/run-0"
echo PASS
