#!/usr/bin/env bash
# Faults carried out by the harness on a local fleet (docs/faults.md): a
# kill (SIGKILL at tick 50, the same lbserver started again at tick 100)
# and a pause (SIGSTOP at 130, SIGCONT at 160), and a slow (lbserver's
# own: the run goes ahead with it; test_server_loopback checks its
# effect). The run finishes; events.csv
# has each fault's actual start and end; the per-request log shows the
# effect: requests to the killed server fail during the kill and complete
# again after the restart (none fails 8 ticks after it: the clients
# reconnect within half a tick, not after a backoff of up to a second), the paused server completes nothing during the
# pause; every request has an outcome. (delay and partition, lbclient's:
# it_harness_channel_faults.)
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
make_out lbh-faults

# 2 x 2 fleet, 20 ms ticks, 220 ticks: 4.4 s of arrivals.
tiny_scenario_20ms "$OUT/faults.yaml" faults 220 "data_frequency: 1" "faults:" \
  "  - {kind: kill, at: 50, for: 50, server: 1}" \
  "  - {kind: pause, at: 130, for: 30, server: 0}" \
  "  - {kind: slow, at: 170, for: 30, server: 1, factor: 3}"
rc=0
timeout -s KILL 120 "$H" run "$OUT/faults.yaml" --out "$OUT/out" --quiet > "$OUT/run.txt" 2>&1 ||
  rc=$?
cat "$OUT/run.txt"
[[ $rc -eq 0 ]] || fail "lbharness run exited $rc"
no_strays "after the run"
RUN=$OUT/out/faults/real/run-0
cat "$RUN/events.csv"
for want in "server 1,fault_start,kill: SIGKILL due at tick 50" \
  "server 1,fault_end,kill: restarted (same arguments and ports) due at tick 100" \
  "server 0,fault_start,pause: SIGSTOP due at tick 130" \
  "server 0,fault_end,pause: SIGCONT due at tick 160"; do
  grep -q "$want" "$RUN/events.csv" || fail "events.csv lacks '$want'"
done
grep -q ',died,' "$RUN/events.csv" && fail "a planned kill was reported as a death"
accounted "$RUN"
rows=$(($(wc -l < "$RUN/requests.csv") - 1))
((rows == SENT)) || fail "$SENT requests sent but $rows rows in requests.csv"
# The effects, from the per-request log (columns found by name).
awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { s = $col["server"]; sub(/^Server /, "", s); st = $col["started_on_tick"]; done = $col["tick_at_completion"]
    out = $col["outcome"] }
  s == 1 && st >= 52 && st < 98 && out == "failed" { killed_failed++ }
  s == 1 && st >= 52 && st < 98 && out == "completed" { killed_completed++ }
  s == 1 && st >= 150 && out == "completed" { after_restart++ }
  s == 1 && st >= 108 && out == "failed" { late_failed++ }
  s == 0 && out == "completed" && done >= 132 && done < 159.5 { paused_completed++ }
  s == 0 && out == "completed" && done >= 160 { after_pause++ }
  END {
    printf "killed: %d failed, %d completed; after restart: %d completed; paused: %d completed, after: %d\n",
      killed_failed, killed_completed, after_restart, paused_completed, after_pause
    if (killed_failed == 0) { print "FAIL: no request failed during the kill"; exit 1 }
    if (killed_completed > 0) { print "FAIL: the killed server completed requests"; exit 1 }
    if (after_restart == 0) { print "FAIL: the restarted server completed nothing"; exit 1 }
    # The model serves again from tick 100; lbclient retries every half
    # tick at most, so it finds the server within a few ticks of its start.
    if (late_failed > 0) { printf "FAIL: %d requests failed 8+ ticks after the restart\n", late_failed; exit 1 }
    if (paused_completed > 0) { print "FAIL: the paused server completed requests"; exit 1 }
    if (after_pause == 0) { print "FAIL: the paused server completed nothing after SIGCONT"; exit 1 }
  }' "$RUN/requests.csv" || fail "the faults did not show in the per-request log"
echo "PASS"
