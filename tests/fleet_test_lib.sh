# Shared by the fleet integration tests (tests/it_*.sh): source it after
# `set -euo pipefail`. Gives $B (the build tree), a private $OUT folder whose
# path marks every process a test starts (so cleanup kills only those), and
# fail / no_strays / require_bins / accounted / tiny_scenario.
B=${LB_BINARY_DIR:?LB_BINARY_DIR must point at the build tree}

fail() { echo "FAIL: $*"; exit 1; }

tiny_scenario() { # FILE NAME [LINE...]: a 2 x 2 fleet, 5 ms ticks, 60 ticks at
  # half load, one run, seed 7; each LINE (a `field: value`) is added.
  local file=$1 name=$2
  shift 2
  {
    echo "name: $name"
    cat <<'YAML'
picker: random
servers: 2
clients: 2
subset_size: 0
tick: 5ms
total_ticks: 60
mean_threads: 4
target_utilization: 0.5
runs: 1
seed: 7
YAML
    printf '%s\n' "$@"
  } > "$file"
}

require_bins() { # PATH...: each must be an executable
  local bin
  for bin in "$@"; do
    [[ -x $bin ]] || fail "$bin is not built"
  done
}

wait_for() { # DESCRIPTION SECONDS COMMAND...: until COMMAND succeeds, or fail
  local what=$1 secs=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < end)) || fail "timed out waiting for $what"
    sleep 0.05
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

accounted() { # RUN_DIR [WHAT]: sums the client --stats of a run into SENT and
  # COMPLETED; fails unless some request was sent and every one ended
  # completed, failed or timed out.
  local what=${2:-$1} stats s c f t acc=0
  SENT=0 COMPLETED=0
  for stats in "$1"/client-*.stats; do
    [[ -f $stats ]] || fail "$what: no client stats in $1"
    s=$(sed -n 's/^sent=//p' "$stats"); c=$(sed -n 's/^completed=//p' "$stats")
    f=$(sed -n 's/^failed=//p' "$stats"); t=$(sed -n 's/^timed_out=//p' "$stats")
    [[ -n $s && -n $c && -n $f && -n $t ]] || fail "$stats lacks sent/completed/failed/timed_out"
    SENT=$((SENT + s)); COMPLETED=$((COMPLETED + c)); acc=$((acc + c + f + t))
  done
  ((SENT > 0)) || fail "$what: no request sent"
  ((SENT == acc)) || fail "$what: sent $SENT but completed+failed+timed_out = $acc"
}

tiny_scenario_20ms() { # FILE NAME TICKS [LINE...]: tiny_scenario with 20 ms
  # ticks and TICKS total ticks
  local file=$1 name=$2 ticks=$3
  shift 3
  tiny_scenario "$file.tmp" "$name" "$@"
  sed -e 's/^tick: .*/tick: 20ms/' -e "s/^total_ticks: .*/total_ticks: $ticks/" "$file.tmp" > "$file"
  rm -f "$file.tmp"
}

server_pid() { # RUN_DIR INDEX: sets PID to the lbserver of this test's fleet
  # with that index once its port file is written (fails after 10 s)
  local i
  PID=""
  for i in $(seq 200); do
    PID=$(pgrep -f "lbserver.*$OUT.*--index $2( |$)" | head -n 1 || true)
    [[ -n $PID && -s $1/server-$2.port ]] && return 0
    sleep 0.05
  done
  fail "server $2 never started"
}
