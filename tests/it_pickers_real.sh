#!/usr/bin/env bash
# Every picker expression of the catalog (the seed's, the corrected variants
# and the peers, probing and oracle ones included) runs in real lbclients
# against real lbservers on loopback: each on a tiny fleet, every request
# sent accounted for, and (nearly) all of them completed.
set -euo pipefail
S=${LB_SOURCE_DIR:?LB_SOURCE_DIR must point at the source tree}
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
make_out lbpick-it

# One tiny scenario per distinct picker expression of the catalog.
n=0
declare -A seen=()
for f in "$S"/scenarios/*.yaml; do
  expr=$(sed -n 's/^picker:[[:space:]]*//p' "$f" | head -n1)
  [[ -n $expr ]] || continue
  [[ -z ${seen[$expr]:-} ]] || continue
  seen[$expr]=1
  n=$((n + 1))
  cat > "$OUT/p$n.yaml" <<YAML
name: p$n
picker: $expr
servers: 3
clients: 2
subset_size: 3
tick: 5ms
total_ticks: 40
mean_threads: 6
mean_processing_time: 3
target_utilization: 0.4
rate_probes_per_request: 2
runs: 1
seed: $((100 + n))
YAML
done
((n >= 40)) || fail "only $n distinct picker expressions found in $S/scenarios"
echo "running $n picker expressions on real fleets"

rc=0
timeout -s KILL 600 "$H" run "$OUT"/p*.yaml --out "$OUT/out" --quiet > "$OUT/run.txt" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || { cat "$OUT/run.txt"; fail "lbharness run exited $rc"; }

for ((i = 1; i <= n; i++)); do
  expr=$(sed -n 's/^picker: //p' "$OUT/p$i.yaml")
  run=$OUT/out/p$i/real/run-0
  accounted "$run" "$expr"
  sent=$SENT completed=$COMPLETED
  ((completed * 100 >= sent * 95)) || fail "$expr: only $completed of $sent completed"
  printf '  ok %-70s sent %4d completed %4d\n' "$expr" "$sent" "$completed"
done
no_strays "after the runs"
echo "all $n picker expressions ran on real fleets"
