#!/usr/bin/env bash
# netns.sh: one network namespace per fleet host, joined by a bridge that
# lives in a namespace of the fleet's own. Nothing is created in the root
# namespace, so a fleet can only ever talk to itself.
#
#   netns.sh up FLEET NSERVERS NCLIENTPROCS   create (or complete) a fleet
#   netns.sh exec FLEET HOST CMD...           run CMD in host s<i>, c<j> or br
#   netns.sh addr HOST                        print a host's address (s3 -> 10.77.1.4)
#   netns.sh hosts FLEET                      list "HOST NAMESPACE ADDRESS" lines
#   netns.sh down FLEET                       kill the fleet's processes, remove it
#   netns.sh cleanup                          remove every lbt-* namespace and link
#   netns.sh check                            say whether namespaces work here
#
# Names: FLEET is 1-8 of [a-z0-9]. Namespaces are lbt-FLEET-s<i> (servers),
# lbt-FLEET-c<j> (client processes) and lbt-FLEET-br (the bridge br0). Each
# host has one interface, lb0, whose peer on the bridge is s<i> or c<j>.
# Addresses (10.77.0.0/16, private to the fleet's bridge):
#   server i -> 10.77.(1 + i/250).(1 + i%250)
#   client j -> 10.77.(128 + j/250).(1 + j%250)
# Every command is idempotent and safe after a failed or killed run; `up`
# removes what it made if it fails or is interrupted.
set -Eeuo pipefail

PREFIX=lbt
NET=10.77
IFACE=lb0
BRIDGE=br0

die() {
  echo "netns: $*" >&2
  exit 1
}

usage() { # [EXIT]: help on stdout with 0, else on stderr
  if [ "${1:-2}" = 0 ]; then
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  else
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
  fi
  exit "${1:-2}"
}

need_root() {
  [ "$(id -u)" = 0 ] || die "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to create namespaces)"
  command -v ip >/dev/null || die "'ip' not found (install iproute2)"
}

check_fleet() {
  [[ "${1:-}" =~ ^[a-z0-9]{1,8}$ ]] || die "fleet id '${1:-}': expected 1-8 characters of [a-z0-9]"
}

check_count() { # NAME VALUE MAX
  [[ "$2" =~ ^[0-9]+$ ]] && (($2 <= $3)) || die "$1 '$2': expected an integer from 0 to $3"
}

# addr HOST: s<i> or c<j> -> its address.
host_addr() {
  local kind=${1:0:1} n=${1:1} base
  [[ "$n" =~ ^[0-9]+$ ]] || die "host '$1': expected s<index> or c<index>"
  case $kind in
  s) base=1 ;;
  c) base=128 ;;
  *) die "host '$1': expected s<index> or c<index>" ;;
  esac
  ((n < 127 * 250)) || die "host '$1': index too large (at most $((127 * 250 - 1)))"
  echo "$NET.$((base + n / 250)).$((1 + n % 250))"
}

ns_exists() { [ -e "/run/netns/$1" ]; }

# Namespaces whose names start with $1.
list_ns() {
  local f
  for f in /run/netns/"$1"*; do
    [ -e "$f" ] && basename "$f"
  done
  return 0
}

# Stops every process in namespace $1: TERM, up to 2 s of grace, then KILL.
kill_ns_procs() {
  local ns=$1 pids i
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -n "$pids" ] || return 0
  kill -TERM $pids 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  kill -KILL $pids 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  echo "netns: processes $pids in $ns would not die" >&2
}

remove_ns() {
  kill_ns_procs "$1"
  ip netns del "$1" 2>/dev/null || true
  # A namespace file left without its namespace (killed `ip netns add`).
  if [ -e "/run/netns/$1" ]; then
    umount "/run/netns/$1" 2>/dev/null || true
    rm -f "/run/netns/$1" 2>/dev/null || true
  fi
}

# Removes every namespace and root-namespace link whose name starts with $1.
remove_prefix() {
  local ns link
  for ns in $(list_ns "$1"); do
    remove_ns "$ns"
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    case $link in "$1"*) ip link del "$link" 2>/dev/null || true ;; esac
  done
}

add_host() { # FLEET HOST
  local fleet=$1 host=$2 ns="$PREFIX-$1-$2" br="$PREFIX-$1-br" addr
  addr=$(host_addr "$host")
  ns_exists "$ns" || ip netns add "$ns"
  if ! ip -n "$ns" link show "$IFACE" >/dev/null 2>&1; then
    ip -n "$br" link del "$host" 2>/dev/null || true
    ip -n "$br" link add name "$host" type veth peer name "$IFACE" netns "$ns"
  fi
  ip -n "$br" link set "$host" master "$BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr replace "$addr/16" dev "$IFACE"
  ip -n "$ns" link set "$IFACE" up
}

cmd_up() {
  [ $# = 3 ] || usage
  local fleet=$1 nservers=$2 nclients=$3 br i
  check_fleet "$fleet"
  check_count servers "$nservers" $((127 * 250))
  check_count client-processes "$nclients" $((127 * 250))
  need_root
  br="$PREFIX-$fleet-br"
  # A failed or interrupted `up` leaves nothing behind.
  trap 'echo "netns: up $fleet failed; removing it" >&2; remove_prefix "$PREFIX-$fleet-"; exit 1' ERR
  trap 'echo "netns: interrupted; removing $fleet" >&2; remove_prefix "$PREFIX-$fleet-"; exit 130' INT TERM
  ns_exists "$br" || ip netns add "$br"
  ip -n "$br" link set lo up
  ip -n "$br" link show "$BRIDGE" >/dev/null 2>&1 || ip -n "$br" link add name "$BRIDGE" type bridge
  ip -n "$br" link set "$BRIDGE" up
  for ((i = 0; i < nservers; i++)); do add_host "$fleet" "s$i"; done
  for ((i = 0; i < nclients; i++)); do add_host "$fleet" "c$i"; done
  trap - ERR INT TERM
  cmd_hosts "$fleet"
}

cmd_hosts() {
  [ $# = 1 ] || usage
  check_fleet "$1"
  local ns host
  for ns in $(list_ns "$PREFIX-$1-"); do
    host=${ns#"$PREFIX-$1-"}
    [ "$host" = br ] && continue
    echo "$host $ns $(host_addr "$host")"
  done | sort -k1.1,1.1r -k1.2n
}

cmd_exec() {
  [ $# -ge 3 ] || usage
  local fleet=$1 host=$2
  check_fleet "$fleet"
  [[ "$host" =~ ^(s[0-9]+|c[0-9]+|br)$ ]] || die "host '$host': expected s<index>, c<index> or br"
  need_root
  ns_exists "$PREFIX-$fleet-$host" || die "no namespace $PREFIX-$fleet-$host (run: netns.sh up $fleet ...)"
  shift 2
  exec ip netns exec "$PREFIX-$fleet-$host" "$@"
}

cmd_down() {
  [ $# = 1 ] || usage
  check_fleet "$1"
  need_root
  trap '' INT TERM # finish tearing down once started
  remove_prefix "$PREFIX-$1-"
}

cmd_cleanup() {
  [ $# = 0 ] || usage
  need_root
  trap '' INT TERM
  remove_prefix "$PREFIX-"
}

cmd_check() {
  [ $# = 0 ] || usage
  if [ "$(id -u)" != 0 ]; then
    echo "netns: unavailable: needs root"
    return 1
  fi
  command -v ip >/dev/null || { echo "netns: unavailable: 'ip' not found (install iproute2)"; return 1; }
  CHECK_NS="$PREFIX-chk$$"
  local out
  trap 'remove_ns "$CHECK_NS"' EXIT
  trap 'exit 130' INT TERM
  if ! out=$(ip netns add "$CHECK_NS" 2>&1); then
    echo "netns: unavailable: ip netns add: $out"
    return 1
  fi
  if ! out=$(ip -n "$CHECK_NS" link add name vetha type veth peer name vethb 2>&1); then
    echo "netns: unavailable: veth: $out"
    return 1
  fi
  if ! out=$(ip -n "$CHECK_NS" link add name br0 type bridge 2>&1); then
    echo "netns: unavailable: bridge: $out"
    return 1
  fi
  echo "netns: ok (namespaces, veth and bridges work)"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
up) cmd_up "$@" ;;
down) cmd_down "$@" ;;
exec) cmd_exec "$@" ;;
hosts) cmd_hosts "$@" ;;
addr) [ $# = 1 ] || usage; host_addr "$1" ;;
cleanup) cmd_cleanup "$@" ;;
check) cmd_check "$@" ;;
-h | --help | help) usage 0 ;;
*) echo "netns: unknown command '$cmd'" >&2; usage ;;
esac
