#!/usr/bin/env bash
# A fleet in network namespaces (deploy/netns.sh): 2 lbservers and 1 lbclient
# process (2 logical clients), each in a namespace of its own, joined by the
# fleet's bridge. Checks that
#  1. the namespaces reach each other and nothing else (no route out);
#  2. a real run over TCP, then over UDP, accounts for every request
#     (completed + failed + timed_out == sent, sent > 0), and the requests
#     crossed the veth links (the client's lb0 sent, both servers' lb0
#     received, by the interface counters);
#  3. `lbharness deploy netem-apply` puts a tbf rate on the fleet's links
#     (and a run still accounts for everything), and applies netem where
#     the kernel has it, or refuses with netem-check's one line;
#  4. after `down` nothing is left: namespaces, links, processes.
# Needs root; prints "SKIPPED: reason" and passes where it cannot run.
# Waits are for conditions (files, exits), bounded by timeouts.
set -euo pipefail
SRC=${LB_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${LB_BINARY_DIR:?LB_BINARY_DIR must point at the build tree}
NETNS="$SRC/deploy/netns.sh"
SRV=$B/lbserver/lbserver
CLI=$B/lbclient/lbclient

if [[ $(id -u) != 0 ]]; then
  echo "SKIPPED: not root (network namespaces need CAP_NET_ADMIN)"
  exit 0
fi
if ! msg=$(bash "$NETNS" check); then
  echo "SKIPPED: $msg"
  exit 0
fi
for bin in "$SRV" "$CLI"; do
  [[ -x $bin ]] || { echo "FAIL: $bin is not built"; exit 1; }
done

FLEET="it$(($$ % 100000))"
OUT=$(mktemp -d /tmp/lbt-it-netns.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  bash "$NETNS" down "$FLEET" >/dev/null 2>&1 || true
  rm -rf "$OUT"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$OUT"/*.err; do [[ -f $f ]] && { echo "--- $f"; tail -20 "$f"; }; done
  exit 1
}
wait_for() { # DESCRIPTION SECONDS COMMAND...
  local what=$1 secs=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < end)) || fail "timed out waiting for $what"
    sleep 0.02
  done
}
nsx() { bash "$NETNS" exec "$FLEET" "$@"; }
counter() { nsx "$1" cat "/sys/class/net/lb0/statistics/$2"; }
stat_of() { sed -n "s/^$2=//p" "$1"; }
alive() { # PID: running (a zombie is not)
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $st != Z* ]]
}

echo "== refusals"
out=$(bash "$NETNS" up "Bad_Id" 1 1 2>&1) && fail "a bad fleet id was accepted"
[[ $out == *"fleet id 'Bad_Id': expected 1-8 characters of [a-z0-9]"* ]] || fail "bad id: $out"
out=$(bash "$NETNS" exec "$FLEET" s0 true 2>&1) && fail "exec into a fleet that is not up"
[[ $out == *"no namespace lbt-$FLEET-s0"* ]] || fail "exec: $out"
bash "$NETNS" help | grep -q "netns.sh up FLEET" || fail "help"

echo "== up: fleet $FLEET, 2 servers, 1 client process"
bash "$NETNS" up "$FLEET" 2 1 >"$OUT/hosts" || fail "netns.sh up"
[[ $(wc -l <"$OUT/hosts") == 3 ]] || fail "expected 3 hosts, got: $(cat "$OUT/hosts")"
grep -qx "s1 lbt-$FLEET-s1 10.77.1.2" "$OUT/hosts" || fail "hosts: $(cat "$OUT/hosts")"
grep -qx "c0 lbt-$FLEET-c0 10.77.128.1" "$OUT/hosts" || fail "hosts: $(cat "$OUT/hosts")"
# Idempotent: up again changes nothing.
bash "$NETNS" up "$FLEET" 2 1 >/dev/null || fail "second netns.sh up"
[[ $(ls /run/netns | grep -c "^lbt-$FLEET-") == 4 ]] || fail "expected 4 namespaces"

echo "== isolation: a host has one route, the fleet's /16"
routes=$(nsx c0 ip -4 route show | sed "s/ *$//")
[[ $routes == "10.77.0.0/16 dev lb0 proto kernel scope link src 10.77.128.1" ]] ||
  fail "c0 routes: $routes"
# The root namespace gained no address or link of the fleet's.
ip -o addr show | grep -q "10\.77\." && fail "root namespace has a 10.77 address"
ip -o link show | grep -q "lbt-$FLEET" && fail "root namespace has a link of the fleet"

cat >"$OUT/s.yaml" <<EOF
name: it-netns
picker: round_robin
servers: 2
clients: 2
subset_size: 0
total_ticks: 60
mean_requests_per_server_per_tick: 1
mean_processing_time: 2
mean_threads: 20
max_cooldown: 100
tick: 5ms
seed: 11
delay: inproc
transport: tcp
EOF
sed 's/^transport: tcp/transport: udp/' "$OUT/s.yaml" >"$OUT/u.yaml"

start_servers() {
  for i in 0 1; do
    rm -f "$OUT/port$i"
    nsx "s$i" "$SRV" --scenario "$OUT/s.yaml" --index "$i" --listen "10.77.1.$((i + 1))" \
      --port 7000 --udp-port 7001 --port-file "$OUT/port$i" --max-runtime 60 \
      2>>"$OUT/server$i.err" &
    SERVER_PID[$i]=$!
    PIDS+=($!)
  done
  for i in 0 1; do wait_for "server $i's port file" 20 test -s "$OUT/port$i"; done
}
stop_servers() {
  for i in 0 1; do kill -TERM "${SERVER_PID[$i]}" 2>/dev/null || true; done
  for i in 0 1; do wait "${SERVER_PID[$i]}" 2>/dev/null || true; done
}

run_client() { # SCENARIO NAME
  local before_tx before_s0 before_s1
  before_tx=$(counter c0 tx_packets)
  before_s0=$(counter s0 rx_packets)
  before_s1=$(counter s1 rx_packets)
  nsx c0 "$CLI" --scenario "$1" --clients 0:2 --run 0 \
    --servers 10.77.1.1:7000:7001,10.77.1.2:7000:7001 --log "$OUT/$2.csv" \
    --stats "$OUT/$2.stats" --max-runtime 60 >"$OUT/$2.out" 2>"$OUT/$2.err" ||
    fail "lbclient ($2) exited $?"
  local sent completed failed timed_out
  sent=$(stat_of "$OUT/$2.stats" sent)
  completed=$(stat_of "$OUT/$2.stats" completed)
  failed=$(stat_of "$OUT/$2.stats" failed)
  timed_out=$(stat_of "$OUT/$2.stats" timed_out)
  [[ -n $sent && $sent -gt 0 ]] || fail "$2: nothing sent: $(cat "$OUT/$2.stats")"
  ((completed + failed + timed_out == sent)) ||
    fail "$2: completed $completed + failed $failed + timed_out $timed_out != sent $sent"
  ((completed > 0)) || fail "$2: nothing completed"
  local tx s0 s1
  tx=$(($(counter c0 tx_packets) - before_tx))
  s0=$(($(counter s0 rx_packets) - before_s0))
  s1=$(($(counter s1 rx_packets) - before_s1))
  ((tx > 0 && s0 > 0 && s1 > 0)) || fail "$2: packets over the veths: c0 sent $tx, s0 got $s0, s1 got $s1"
  echo "$2: sent $sent completed $completed failed $failed timed_out $timed_out;" \
    "packets: c0 sent $tx, s0 received $s0, s1 received $s1"
}

echo "== a run over TCP, then over UDP"
start_servers
run_client "$OUT/s.yaml" tcp
run_client "$OUT/u.yaml" udp

echo "== lbharness deploy netem-apply: tbf on the fleet's bridge ports, then netem"
LBH=$B/harness/lbharness
"$LBH" deploy netem-apply "$OUT/s.yaml" --fleet "$FLEET" --no-delay --rate 1gbit 2>"$OUT/tbf.err" ||
  fail "netem-apply --rate: $(cat "$OUT/tbf.err")"
for port in s0 s1 c0; do
  nsx br tc qdisc show dev "$port" | grep -q "tbf 1: root" || fail "no tbf on $port"
done
run_client "$OUT/s.yaml" tcp-tbf
# netem: applied where the kernel has it, else refused with the one line.
if "$LBH" deploy netem-check >"$OUT/check.out"; then
  "$LBH" deploy netem-apply "$OUT/s.yaml" --fleet "$FLEET" --dist-dir "$OUT/tables" \
    2>"$OUT/netem.err" || fail "netem-apply: $(cat "$OUT/netem.err")"
  nsx c0 tc qdisc show dev lb0 | grep -q "netem" || fail "no netem on c0"
  echo "netem: applied"
else
  "$LBH" deploy netem-apply "$OUT/s.yaml" --fleet "$FLEET" --dist-dir "$OUT/tables" \
    2>"$OUT/netem.err" && fail "netem-apply succeeded where netem-check said no"
  [[ $(cat "$OUT/netem.err") == "$(cat "$OUT/check.out")" ]] ||
    fail "netem-apply said '$(cat "$OUT/netem.err")', netem-check '$(cat "$OUT/check.out")'"
  echo "netem: $(cat "$OUT/check.out")"
fi
stop_servers

echo "== down: nothing left"
# Started from a subshell, so that this shell has no job to report on.
STRAY=$( (nsx s0 sleep 300 >/dev/null 2>&1 &
  echo $!))
PIDS+=($STRAY)
wait_for "the stray process in s0" 10 test -n "$(ip netns pids "lbt-$FLEET-s0" 2>/dev/null)"
bash "$NETNS" down "$FLEET" || fail "netns.sh down"
ls /run/netns 2>/dev/null | grep -q "^lbt-$FLEET-" && fail "namespaces left: $(ls /run/netns)"
ip -o link show | grep -q "lbt-$FLEET" && fail "links left"
alive "$STRAY" && fail "process $STRAY left running in a removed namespace"
for i in 0 1; do alive "${SERVER_PID[$i]}" && fail "server $i still running"; done
# Down again: nothing to do, no error.
bash "$NETNS" down "$FLEET" || fail "second netns.sh down"
echo "PASS"
