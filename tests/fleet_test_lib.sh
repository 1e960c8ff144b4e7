# Shared by the fleet integration tests (tests/it_*.sh): source it after
# `set -euo pipefail`. Gives $B (the build tree), a private $OUT folder whose
# path marks every process a test starts (so cleanup kills only those), and
# fail / no_strays / require_bins.
B=${LB_BINARY_DIR:?LB_BINARY_DIR must point at the build tree}

fail() { echo "FAIL: $*"; exit 1; }

require_bins() { # PATH...: each must be an executable
  local bin
  for bin in "$@"; do
    [[ -x $bin ]] || fail "$bin is not built"
  done
}

make_out() { # PREFIX: sets OUT, removed (with its processes) on exit
  OUT=$(mktemp -d "/tmp/$1.XXXXXX")
  trap fleet_test_cleanup EXIT
}

fleet_test_cleanup() {
  local left pid
  left=$(pgrep -f -- "$OUT" || true)
  for pid in $left; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$OUT"
}

no_strays() { # WHEN: no process whose argv holds $OUT is left
  local left
  left=$(pgrep -af -- "$OUT" || true)
  [[ -z $left ]] || fail "processes outlived lbharness ($1):"$'\n'"$left"
}
