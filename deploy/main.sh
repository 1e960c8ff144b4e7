#!/usr/bin/env bash
# Sets everything up and runs the main job: the default scenario on a real
# fleet on this machine and in the simulator, ending in the comparison.
# Usage: deploy/main.sh [SCENARIO...] (default: scenarios/quick.yaml)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/deploy/setup.sh"
"$root/deploy/build.sh"
(($#)) || set -- "$root/scenarios/quick.yaml"
exec "$root/build/harness/lbharness" compare --out "$root/results/quick" "$@"
