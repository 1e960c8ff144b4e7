#!/usr/bin/env bash
# Builds tests/fuzz with clang and libFuzzer (ASan+UBSan) into build-fuzz and
# runs each target for SECONDS (default 60), niced, one after another,
# starting from its corpus in tests/fuzz/corpus/<target>. New coverage goes
# to build-fuzz/corpus/<target> (the tree's corpus is only read); a crasher
# is written to build-fuzz/crashes/<target>/. Prints one line a target:
#   TARGET executions=N exec_per_s=N crashes=N
# Exit 1 when any target crashed. Usage: bench/fuzz.sh [SECONDS] [TARGET...]
# RUNS=N: stop each target after N executions instead (SECONDS then bounds
# it still: a target that is too slow stops there, and its line says so).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(frame datagram scenario expr fleet_file orca_text server)
runs=()
[[ -n ${RUNS:-} ]] && runs=(-runs="$RUNS")
build=${BUILD_DIR:-$root/build-fuzz}
CC=clang nice -n 10 cmake -S "$root" -B "$build" -DLB_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS_DEBUG="-g -O1" >/dev/null
tgts=()
for t in "${targets[@]}"; do tgts+=(--target "fuzz_$t"); done
nice -n 10 cmake --build "$build" -j2 "${tgts[@]}" -- --no-print-directory >/dev/null
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/crashes/$t"
  log="$build/fuzz_$t.log"
  rc=0
  nice -n 10 "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" "${runs[@]}" -print_final_stats=1 \
    -rss_limit_mb=2048 -artifact_prefix="$build/crashes/$t/" \
    "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$(find "$build/crashes/$t" -type f | wc -l)
  echo "$t executions=${execs:-?} exec_per_s=${speed:-?} crashes=$crashes"
  if ((rc != 0 || crashes > 0)); then
    failed=1
    grep -m3 -E "ERROR|runtime error|SUMMARY" "$log" | sed 's/^/  /' || true
    echo "  log: $log"
  fi
done
exit $failed
