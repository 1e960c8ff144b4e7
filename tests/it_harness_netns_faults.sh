#!/usr/bin/env bash
# Faults on a netns fleet (`--hosts netns`, docs/faults.md). The daemons
# run through `netns.sh exec`, which execs into them (ip netns exec does
# too), so the harness's signals reach lbserver itself in its namespace;
# slow, delay and partition are the daemons' own, in-process.
#  1. the harness's: a 2 x 2 fleet, 20 ms ticks; server 1 killed at tick 40
#     and started again at 80, server 0 paused from 110 to 140. events.csv
#     has each fault's start and end and no unplanned death; the
#     per-request log shows the effects (requests to the killed server fail
#     during the kill and complete after the restart; the paused server
#     completes nothing during the pause);
#  2. the daemons': client 0's channel to server 0 delayed +10 ticks each
#     way (ticks 40 to 79), every channel to server 1 cut (120 to 139),
#     server 0 slowed x2 (150 to 169), `timeout: 30`: client 0's requests
#     in the delay take the 20 extra ticks, the requests to server 1 in the
#     partition all time out, and server 1 completes again after it.
# Both runs finish (exit 0), every request sent is accounted for
# (completed, failed or timed out) with a row in requests.csv, and no
# process and no namespace of the runs is left.
# Prints "SKIPPED: reason" and passes where it cannot run (not root, no
# network namespaces).
set -euo pipefail
SRC=${LB_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
export LB_SOURCE_DIR=$SRC
if [[ $(id -u) != 0 ]]; then
  echo "SKIPPED: not root (network namespaces need CAP_NET_ADMIN)"
  exit 0
fi
if ! msg=$(bash "$SRC/deploy/netns.sh" check); then
  echo "SKIPPED: $msg"
  exit 0
fi
make_out lbh-nsfaults
before=$(ip netns list | awk '{print $1}' | grep '^lbt-h' | sort || true)

# RUN NAME: lbharness run $OUT/NAME.yaml --hosts netns; sets RUN (run 0's
# folder), SENT and COMPLETED; fails unless it finished, left nothing
# behind and accounted for every request.
run_netns() {
  local name=$1 rc=0 now rows
  timeout -s KILL 150 "$H" run "$OUT/$name.yaml" --hosts netns --out "$OUT/$name" --quiet \
    >"$OUT/$name.txt" 2>&1 || rc=$?
  cat "$OUT/$name.txt"
  [[ $rc -eq 0 ]] || fail "$name: lbharness run --hosts netns exited $rc"
  no_strays "after $name"
  now=$(ip netns list | awk '{print $1}' | grep '^lbt-h' | sort || true)
  [[ $now == "$before" ]] ||
    fail "$name: namespaces left behind: $(comm -13 <(echo "$before") <(echo "$now"))"
  RUN=$OUT/$name/$name/real/run-0
  accounted "$RUN" "$name"
  rows=$(($(wc -l <"$RUN/requests.csv") - 1))
  ((rows == SENT)) || fail "$name: $SENT requests sent but $rows rows in requests.csv"
  echo "$name: sent $SENT, completed $COMPLETED"
}

echo "== 1. kill and pause (the harness's)"
# 2 x 2 fleet, 20 ms ticks, 180 ticks: 3.6 s of arrivals.
tiny_scenario_20ms "$OUT/nsf.yaml" nsf 180 "data_frequency: 1" "faults:" \
  "  - {kind: kill, at: 40, for: 40, server: 1}" \
  "  - {kind: pause, at: 110, for: 30, server: 0}"
run_netns nsf
cat "$RUN/events.csv"
for want in "server 1,fault_start,kill: SIGKILL due at tick 40" \
  "server 1,fault_end,kill: restarted (same arguments and ports) due at tick 80" \
  "server 0,fault_start,pause: SIGSTOP due at tick 110" \
  "server 0,fault_end,pause: SIGCONT due at tick 140"; do
  grep -q "$want" "$RUN/events.csv" || fail "events.csv lacks '$want'"
done
grep -q ',died,' "$RUN/events.csv" && fail "a planned kill was reported as a death"
# The effects, from the per-request log (columns found by name).
awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { s = $col["server"]; sub(/^Server /, "", s); st = $col["started_on_tick"]; done = $col["tick_at_completion"]
    out = $col["outcome"] }
  s == 1 && st >= 42 && st < 78 && out == "failed" { killed_failed++ }
  s == 1 && st >= 42 && st < 78 && out == "completed" { killed_completed++ }
  s == 1 && st >= 100 && out == "completed" { after_restart++ }
  s == 0 && out == "completed" && done >= 112 && done < 139.5 { paused_completed++ }
  s == 0 && out == "completed" && done >= 140 { after_pause++ }
  END {
    printf "killed: %d failed, %d completed; after restart: %d completed; paused: %d completed, after: %d\n",
      killed_failed, killed_completed, after_restart, paused_completed, after_pause
    if (killed_failed == 0) { print "FAIL: no request failed during the kill"; exit 1 }
    if (killed_completed > 0) { print "FAIL: the killed server completed requests"; exit 1 }
    if (after_restart == 0) { print "FAIL: the restarted server completed nothing"; exit 1 }
    if (paused_completed > 0) { print "FAIL: the paused server completed requests"; exit 1 }
    if (after_pause == 0) { print "FAIL: the paused server completed nothing after SIGCONT"; exit 1 }
  }' "$RUN/requests.csv" || fail "kill and pause did not show in the per-request log"

echo "== 2. delay, partition and slow (the daemons')"
tiny_scenario_20ms "$OUT/nsc.yaml" nsc 200 "data_frequency: 1" "timeout: 30" "faults:" \
  "  - {kind: delay, at: 40, for: 40, server: 0, client: 0, ticks: 10}" \
  "  - {kind: partition, at: 120, for: 20, server: 1}" \
  "  - {kind: slow, at: 150, for: 20, server: 0, factor: 2}"
sed -i 's/^mean_threads: .*/mean_threads: 12/' "$OUT/nsc.yaml" # enough in each window
run_netns nsc
drops=$(cat "$RUN"/client-*.stats | sed -n 's/^partition_dropped_requests=//p' | paste -sd+ | bc)
((drops > 0)) || fail "no request was dropped by the partition"
awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { s = $col["server"]; sub(/^Server /, "", s); c = $col["client"]; sub(/^Client /, "", c)
    st = $col["started_on_tick"]; tot = $col["total_ticks"]; out = $col["outcome"] }
  s == 0 && c == 0 && st >= 41 && st < 60 && out == "completed" { d0++; if (tot < 19.5) fast0++ }
  s == 1 && st >= 121 && st < 139 { cut++; if (out != "timed_out") cut_ok++ }
  s == 1 && st >= 150 && out == "completed" { after++ }
  END {
    printf "delay: client 0 %d completed (%d under 19.5 ticks); partition: %d sent in it (%d not timed out); after: %d completed\n",
      d0, fast0, cut, cut_ok, after
    if (d0 == 0) { print "FAIL: no traffic to judge the delay by"; exit 1 }
    if (fast0 > 0) { print "FAIL: client 0 requests in the delay window came back without the 20 extra ticks"; exit 1 }
    if (cut == 0) { print "FAIL: nothing sent to server 1 in the partition"; exit 1 }
    if (cut_ok > 0) { print "FAIL: a request sent in the partition did not time out"; exit 1 }
    if (after == 0) { print "FAIL: server 1 completed nothing after the partition"; exit 1 }
  }' "$RUN/requests.csv" || fail "delay and partition did not show in the per-request log"
echo "PASS"
