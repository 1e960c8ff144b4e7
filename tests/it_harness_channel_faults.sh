#!/usr/bin/env bash
# Channel faults carried out by lbclient in-process on a local fleet
# (docs/faults.md): a delay (+10 ticks each way on client 0's channel to
# server 0, ticks 40 to 79) and a partition (every client's channel to
# server 1, ticks 120 to 139), with `timeout: 30`. The per-request log
# shows them: client 0's requests to server 0 arising early in the window
# take the 20 extra ticks, client 1's to it do not; requests to server 1
# arising in the partition all time out after 30 ticks, and complete again
# after it. (The refusal with `delay: netem`: test_harness_faults.)
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"
make_out lbh-chfaults

# 2 x 2 fleet, 20 ms ticks, 200 ticks: 4 s of arrivals.
tiny_scenario_20ms "$OUT/ch.yaml" ch 200 "data_frequency: 1" "timeout: 30" "faults:" \
  "  - {kind: delay, at: 40, for: 40, server: 0, client: 0, ticks: 10}" \
  "  - {kind: partition, at: 120, for: 20, server: 1}"
# three times the tiny fleet's traffic, so that each window sees enough
sed -i 's/^mean_threads: .*/mean_threads: 12/' "$OUT/ch.yaml"
rc=0
timeout -s KILL 120 "$H" run "$OUT/ch.yaml" --out "$OUT/out" --quiet > "$OUT/run.txt" 2>&1 ||
  rc=$?
cat "$OUT/run.txt"
[[ $rc -eq 0 ]] || fail "lbharness run exited $rc"
no_strays "after the run"
RUN=$OUT/out/ch/real/run-0
accounted "$RUN"
rows=$(($(wc -l < "$RUN/requests.csv") - 1))
((rows == SENT)) || fail "$SENT requests sent but $rows rows in requests.csv"
drops=$(cat "$RUN"/client-*.stats | sed -n 's/^partition_dropped_requests=//p' | paste -sd+ | bc)
((drops > 0)) || fail "no request was dropped by the partition"
# The effects, from the per-request log (columns found by name).
awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { s = $col["server"]; sub(/^Server /, "", s); c = $col["client"]; sub(/^Client /, "", c)
    st = $col["started_on_tick"]; tot = $col["total_ticks"]; out = $col["outcome"] }
  # delay: sent and answered in the window (a response takes a few ticks)
  s == 0 && st >= 41 && st < 60 && out == "completed" {
    if (c == 0) { d0++; if (tot < 19.5) fast0++ } else { d1++; sum1 += tot } }
  s == 0 && (st < 35 || st >= 100 && st < 118) && out == "completed" { base++; sumb += tot }
  # partition: sent in the window; before and after it
  s == 1 && st >= 121 && st < 139 { cut++; if (out != "timed_out") cut_ok++
    else if (tot < 29 || tot > 32) cut_odd++ }
  s == 1 && st < 110 && out == "completed" { before++ }
  s == 1 && st < 110 && out == "timed_out" { before_to++ }
  s == 1 && st >= 150 && st < 190 && out == "completed" { after++ }
  END {
    printf "delay: client 0 %d completed (%d under 19.5 ticks), client 1 %d (mean %.1f), outside %d (mean %.1f)\n",
      d0, fast0, d1, d1 ? sum1 / d1 : 0, base, base ? sumb / base : 0
    printf "partition: %d sent in it (%d not timed out, %d timed out off 30 ticks); before %d completed, %d timed out; after %d completed\n",
      cut, cut_ok, cut_odd, before, before_to, after
    if (d0 == 0 || base == 0) { print "FAIL: no traffic to judge the delay by"; exit 1 }
    if (fast0 > 0) { print "FAIL: client 0 requests in the delay window came back without the 20 extra ticks"; exit 1 }
    if (d1 > 0 && sum1 / d1 > sumb / base + 5) { print "FAIL: client 1 was delayed too"; exit 1 }
    if (cut == 0) { print "FAIL: nothing sent to server 1 in the partition"; exit 1 }
    if (cut_ok > 0 || cut_odd > 0) { print "FAIL: a request sent in the partition did not time out after 30 ticks"; exit 1 }
    if (before == 0 || before_to > 0) { print "FAIL: server 1 misbehaved before the partition"; exit 1 }
    if (after == 0) { print "FAIL: server 1 completed nothing after the partition"; exit 1 }
  }' "$RUN/requests.csv" || fail "the faults did not show in the per-request log"
echo "PASS"
