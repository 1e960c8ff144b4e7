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
timeout -s KILL 120 "$H" run "$OUT/pid.yaml" --out "$OUT/out" --quiet > "$OUT/run.txt" 2>&1 &
runner=$!
# The board is /lbharness-<lbharness's pid>-<run>: this run's own (other
# tests running beside this one make boards of their own).
seen=0 board=""
for _ in $(seq 250); do
  hpid=$(pgrep -P "$runner" | head -n 1 || true)
  [[ -n $hpid ]] && board=/dev/shm/lbharness-$hpid-0
  [[ -n $board && -e $board ]] && { seen=1; break; }
  kill -0 "$runner" 2>/dev/null || break
  sleep 0.02
done
rc=0
wait "$runner" || rc=$?
((rc == 0)) || { cat "$OUT/run.txt"; fail "lbharness run exited $rc"; }
((seen)) || fail "no board ${board:-/dev/shm/lbharness-PID-0} while the fleet ran"
csv=$OUT/out/pid/real/run-0/requests.csv
col=$(head -n 1 "$csv" | tr ',' '\n' | grep -n '^server_pid_weight$' | cut -d: -f1)
[[ -n $col ]] || fail "no server_pid_weight column"
distinct=$(tail -n +2 "$csv" | cut -d, -f"$col" | grep -v '^$' | sort -u | wc -l)
echo "distinct PID weights seen by the clients: $distinct"
((distinct >= 5)) || fail "the server PID weight did not move ($distinct distinct values)"
[[ ! -e $board ]] || fail "the run's board $board was left behind"
no_strays "after the run"
accounted "$OUT/out/pid/real/run-0"
echo PASS
