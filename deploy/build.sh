#!/usr/bin/env bash
# Configures and builds into BUILD_DIR (default: build). Extra arguments go
# to cmake's configure step, e.g. -DLB_SANITIZE=ON. BUILD_PROGRESS=1 says
# what it is doing on stderr (deploy/main.sh sets it): a first build takes
# a minute or two on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
progress=${BUILD_PROGRESS:-0}
((progress)) && echo "build: configuring $build" >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
if ((progress)); then
  echo "build: compiling on $(nproc) cores (only what changed since the last build)" >&2
  # make's "[ 42%] Built target lb_common" lines as progress: every program
  # and library, the ~40 test programs only every 10 %.
  cmake --build "$build" -j"$(nproc)" -- --no-print-directory |
    sed -un 's/^\[ *\([0-9]*\)%\] Built target \(.*\)/\1 \2/p' |
    awk -v last=-100 '$2 !~ /^test_/ || $1 >= last + 10 {
      print "build: " $1 "% " ($2 ~ /^test_/ ? "tests (" $2 ")" : $2); last = $1; fflush() }' >&2
  echo "build: done" >&2
else
  cmake --build "$build" -j"$(nproc)" -- --no-print-directory >/dev/null
fi
