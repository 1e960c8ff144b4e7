#!/usr/bin/env bash
# lbharness with `delay: netem`:
#  1. without --hosts netns (run and compare) it is refused at once, in one
#     line naming the file and the field, before anything starts (no output
#     folder, no process);
#  2. with --hosts netns (root, deploy/netns.sh check):
#     - where the kernel has no netem (lbharness deploy netem-check fails),
#       the run is refused with netem-check's one line, before anything
#       starts; with --fallback-inproc it warns and runs with delay: inproc,
#       every request accounted for; and through a stand-in tc that turns
#       netem into pfifo, the harness probes, plans, applies and records the
#       links as it does with netem;
#     - where it has netem, the run applies the plan: its tables are in the
#       run folder, every host's link had netem qdiscs during the run
#       (netem-qdiscs.txt), and every request is accounted for;
#     either way no namespace of the run is left behind.
# Part 2 prints "SKIPPED: reason" where it cannot run (not root, no netns).
set -euo pipefail
SRC=${LB_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient" "$B/sim/lbsim"
export LB_SOURCE_DIR=$SRC
make_out lbh-netem
tiny_scenario "$OUT/nt.yaml" nt "delay: netem"

echo "== 1. delay: netem without --hosts netns"
for cmd in run compare; do
  rc=0
  timeout -s KILL 60 "$H" $cmd "$OUT/nt.yaml" --out "$OUT/o1" --quiet >"$OUT/o1.txt" 2>&1 || rc=$?
  cat "$OUT/o1.txt"
  [[ $rc -ne 0 ]] || fail "$cmd: delay: netem on localhost was accepted"
  [[ $(wc -l <"$OUT/o1.txt") -eq 1 ]] || fail "$cmd: expected one line"
  grep -q "$OUT/nt.yaml: field 'delay': .*--hosts netns" "$OUT/o1.txt" ||
    fail "$cmd: the message does not name the file, the field and --hosts netns"
  [[ ! -e $OUT/o1 ]] || fail "$cmd: something was started before the refusal ($OUT/o1 exists)"
  no_strays "$cmd refused"
done

echo "== 2. delay: netem with --hosts netns"
if [[ $(id -u) != 0 ]]; then
  echo "SKIPPED (part 2): not root (network namespaces need CAP_NET_ADMIN)"
  echo "PASS"
  exit 0
fi
if ! msg=$(bash "$SRC/deploy/netns.sh" check); then
  echo "SKIPPED (part 2): $msg"
  echo "PASS"
  exit 0
fi
before=$(ip netns list | awk '{print $1}' | grep '^lbt-h' | sort || true)
left_ns() {
  local now
  now=$(ip netns list | awk '{print $1}' | grep '^lbt-h' | sort || true)
  [[ $now == "$before" ]] || fail "namespaces left behind ($1): $(comm -13 <(echo "$before") <(echo "$now"))"
}
if probe=$("$H" deploy netem-check); then
  echo "netem is here: $probe"
  rc=0
  timeout -s KILL 120 "$H" run "$OUT/nt.yaml" --hosts netns --out "$OUT/o2" --quiet \
    >"$OUT/o2.txt" 2>&1 || rc=$?
  cat "$OUT/o2.txt"
  [[ $rc -eq 0 ]] || fail "run with netem exited $rc"
  RUN=$OUT/o2/nt/real/run-0
  grep -qx "delay: netem" "$RUN/scenario.yaml" || fail "the daemons did not run with delay: netem"
  compgen -G "$RUN/netem-tables/*.dist" >/dev/null || fail "no netem table in $RUN/netem-tables"
  [[ -s $RUN/netem-qdiscs.txt ]] || fail "no $RUN/netem-qdiscs.txt"
  for host in s0 s1 c0; do
    awk -v h="== $host " 'index($0, h) == 1 {on = 1; next} /^== / {on = 0} on' \
      "$RUN/netem-qdiscs.txt" | grep -q "qdisc netem" || fail "host $host had no netem qdisc"
  done
  accounted "$RUN"
else
  echo "no netem here: $probe"
  for cmd in run compare; do
    rc=0
    timeout -s KILL 60 "$H" $cmd "$OUT/nt.yaml" --hosts netns --out "$OUT/o2" --quiet \
      >"$OUT/o2.txt" 2>&1 || rc=$?
    cat "$OUT/o2.txt"
    [[ $rc -ne 0 ]] || fail "$cmd: delay: netem without netem was accepted"
    [[ "$(cat "$OUT/o2.txt")" == "lbharness: $probe" ]] || fail "$cmd: expected netem-check's line"
    [[ ! -e $OUT/o2 ]] || fail "$cmd: something was started before the refusal"
    no_strays "$cmd: netem refused"
  done

  echo "-- --fallback-inproc"
  rc=0
  timeout -s KILL 120 "$H" run "$OUT/nt.yaml" --hosts netns --fallback-inproc --out "$OUT/o3" \
    --quiet >"$OUT/o3.txt" 2>"$OUT/o3.err" || rc=$?
  cat "$OUT/o3.txt" "$OUT/o3.err"
  [[ $rc -eq 0 ]] || fail "--fallback-inproc run exited $rc"
  grep -q "^lbharness: warning: nt: .*running with delay: inproc (--fallback-inproc)$" \
    "$OUT/o3.err" || fail "no fallback warning"
  RUN=$OUT/o3/nt/real/run-0
  grep -qx "delay: inproc" "$RUN/scenario.yaml" || fail "the fallback did not run delay: inproc"
  [[ ! -e $RUN/netem-tables ]] || fail "netem tables written without netem"
  accounted "$RUN"

  echo "-- the harness's netem wiring, through a stand-in tc that makes netem pfifo"
  # Probe, plan, tables, apply and the record of the links, as where netem
  # exists; only the leaf qdisc differs.
  real_tc=$(command -v tc)
  mkdir -p "$OUT/faketc"
  {
    echo '#!/bin/bash'
    echo 'args=()'
    echo 'for a in "$@"; do'
    echo '  if [[ $a == netem ]]; then args+=(pfifo); break; fi'
    echo '  args+=("$a")'
    echo 'done'
    echo "exec '$real_tc' \"\${args[@]}\""
  } > "$OUT/faketc/tc"
  chmod +x "$OUT/faketc/tc"
  rc=0
  PATH="$OUT/faketc:$PATH" timeout -s KILL 120 "$H" run "$OUT/nt.yaml" --hosts netns \
    --out "$OUT/o4" --quiet >"$OUT/o4.txt" 2>&1 || rc=$?
  cat "$OUT/o4.txt"
  [[ $rc -eq 0 ]] || fail "run with the stand-in netem exited $rc"
  grep -q warning "$OUT/o4.txt" && fail "a warning where netem (stand-in) works"
  RUN=$OUT/o4/nt/real/run-0
  grep -qx "delay: netem" "$RUN/scenario.yaml" || fail "stand-in: not run with delay: netem"
  compgen -G "$RUN/netem-tables/*.dist" >/dev/null || fail "stand-in: no table"
  for host in s0 s1 c0; do
    awk -v h="== $host " 'index($0, h) == 1 {on = 1; next} /^== / {on = 0} on' \
      "$RUN/netem-qdiscs.txt" > "$OUT/q-$host"
    grep -q "^qdisc htb 1: root" "$OUT/q-$host" || fail "stand-in: host $host has no htb root"
    grep -q "^qdisc pfifo .*parent 1:" "$OUT/q-$host" || fail "stand-in: host $host has no leaf"
  done
  accounted "$RUN"
fi
no_strays "after the netns runs"
left_ns "after the netns runs"
echo "PASS"
