#!/usr/bin/env bash
# Sets everything up and runs the main job: the default scenario on a real
# fleet on this machine and in the simulator, ending in the comparison.
# Usage: deploy/main.sh [SCENARIO...] (default: scenarios/quick.yaml)
# Each invocation writes a report of its own, results/NAME-YYYYmmdd-HHMMSS/
# (NAME: the first scenario's file name), and points results/latest at it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
echo "== setup: the Debian packages the build needs (quiet when present)" >&2
"$root/deploy/setup.sh"
echo "== build: build/ (RelWithDebInfo)" >&2
BUILD_PROGRESS=1 "$root/deploy/build.sh"
(($#)) || set -- "$root/scenarios/quick.yaml"
name=$(basename "$1" .yaml)
out="results/$name-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p results
ln -sfn "$(basename "$out")" results/latest
echo "== compare: $* (simulator and a real fleet on 127.0.0.1) into $out" >&2
exec "$root/build/harness/lbharness" compare --out "$root/$out" "$@"
