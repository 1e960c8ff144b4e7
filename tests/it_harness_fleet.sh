#!/usr/bin/env bash
# lbharness run|compare --fleet FILE: a fleet chosen by hand (lbsim's fleet
# files) runs on the real daemons and in lbsim alike: every client's
# subset, the servers' parameters and the channels' means come from the
# file. A fleet that does not fit the scenario is refused before anything
# starts.
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient" "$B/sim/lbsim"
make_out lbh-fleet

tiny_scenario "$OUT/tiny.yaml" tiny "data_frequency: 1" "server_reset_probability: 0" \
  "network_reset_probability: 0"
# Server 1 slow (mean processing 9 ticks), server 0 fast (3); both
# clients' two channels go to server 1: no request may reach server 0.
cat > "$OUT/fleet.txt" <<'FLEET'
# by hand
fleet slow-one
server 4 3 2
server 4 9 2
client 1:1.5 1:2.5
client 1:2 1:1
FLEET

rc=0
timeout -s KILL 120 "$H" compare "$OUT/tiny.yaml" --fleet "$OUT/fleet.txt" --out "$OUT/cmp" \
  --quiet > "$OUT/cmp.txt" 2>&1 || rc=$?
cat "$OUT/cmp.txt"
[[ $rc -eq 0 ]] || fail "compare --fleet exited $rc"
no_strays "after compare --fleet"
# column of a header name in a CSV
col() { head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }
for f in "$OUT/cmp/tiny/real/run-0/requests.csv" "$OUT/cmp/tiny/sim/requests-0.csv"; do
  s=$(col "$f" server)
  p=$(col "$f" processing_ticks)
  [[ -n $s && -n $p ]] || fail "$f lacks server or processing_ticks"
  n=$(tail -n +2 "$f" | wc -l)
  [[ $n -gt 20 ]] || fail "$f: only $n records"
  other=$(tail -n +2 "$f" | cut -d, -f"$s" | grep -vc '^Server 1$' || true)
  [[ $other -eq 0 ]] || fail "$f: $other requests went elsewhere than the fleet's server 1"
  mean=$(tail -n +2 "$f" | awk -F, -v c="$p" '{s += $c; n++} END {printf "%.2f", s / n}')
  awk -v m="$mean" 'BEGIN {exit !(m > 6.5 && m < 12)}' ||
    fail "$f: mean processing $mean ticks, expected about the fleet's 9"
done

echo "== refusals"
printf 'fleet three\nserver 4 3 2\nserver 4 3 2\nserver 4 3 2\nclient 0:1 1:1\nclient 0:1 1:1\n' \
  > "$OUT/three.txt"
rc=0
"$H" run "$OUT/tiny.yaml" --fleet "$OUT/three.txt" --out "$OUT/x" > "$OUT/x.txt" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "a fleet of 3 servers for 2 exited $rc"
grep -q "^lbharness: --fleet $OUT/three.txt:1: fleet 'three' has 3 servers" "$OUT/x.txt" ||
  fail "unexpected message: $(cat "$OUT/x.txt")"
[[ ! -e $OUT/x/tiny ]] || fail "a refused fleet started a run"
rc=0
"$H" compare "$OUT/tiny.yaml" --fleet "$OUT/fleet.txt" --real-dir "$OUT/cmp" > "$OUT/y.txt" 2>&1 ||
  rc=$?
[[ $rc -eq 2 ]] || fail "--fleet with --real-dir exited $rc"
grep -q "^lbharness compare: --fleet: with --real-dir" "$OUT/y.txt" || fail "$(cat "$OUT/y.txt")"
rc=0
"$H" run "$OUT/tiny.yaml" --fleet "$OUT/nosuch.txt" > "$OUT/z.txt" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "a missing fleet file exited $rc"
grep -q "^lbharness run: --fleet $OUT/nosuch.txt: No such file" "$OUT/z.txt" || fail "$(cat "$OUT/z.txt")"
echo "PASS"
