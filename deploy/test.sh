#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: a -Werror build and its
# tests, then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# then the thread-pool tests under ThreadSanitizer.
# Usage: deploy/test.sh [--quick]   (--quick: the plain build only)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

# --containers: CI runs the containers' integration test too (podman).
"$root/deploy/setup.sh" --containers
export LB_REQUIRE_CONTAINERS=1
jobs=$(nproc)

run_suite() { # name, build dir, cmake options..., -- ctest options...
  local name=$1 dir=$2; shift 2
  local cmake_opts=() ctest_opts=()
  while (($#)) && [ "$1" != "--" ]; do cmake_opts+=("$1"); shift; done
  (($#)) && shift
  ctest_opts=("$@")
  echo "== $name: build ($dir)"
  cmake -S "$root" -B "$dir" -DLB_WERROR=ON "${cmake_opts[@]}" >/dev/null
  cmake --build "$dir" -j"$jobs" -- --no-print-directory >/dev/null
  echo "== $name: tests"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" "${ctest_opts[@]}"
}

run_suite "plain" "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
if ((quick == 0)); then
  # halt_on_error: a sanitizer finding fails the test that hit it
  export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite "asan+ubsan" "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DLB_SANITIZE=ON
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  run_suite "tsan" "$root/build-tsan" -DCMAKE_BUILD_TYPE=Debug -DLB_TSAN=ON -- -R 'server_queue|client_'
fi
echo "== all suites passed"
