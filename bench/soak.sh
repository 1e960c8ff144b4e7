#!/usr/bin/env bash
# A bounded soak: a real fleet at 1.5x capacity for MINUTES (default 10)
# with a fault every 30 s (kill, pause, slow, in turn, on each server in
# turn), then the verdict:
#   - no daemon died unplanned (events.csv), the harness exited 0;
#   - every request is accounted for: the clients' sent = completed +
#     failed + timed out, and the per-request log has one row each;
#   - resident memory flat after warm-up: each client process's and each
#     server's RSS at the end is within 25 % (+ 4 MiB) of its RSS at the
#     end of the warm-up (2 minutes, or a fifth of the run if shorter);
#     a server is compared only between its restarts.
# Prints the figures and writes OUT/soak.txt; exit 1 when a check fails.
# Usage: bench/soak.sh [MINUTES] [BUILD_DIR]   (OUT: $SOAK_OUT or a temp dir)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-10}
build=${2:-$root/build}
[[ $minutes =~ ^[0-9]+$ ]] && ((minutes >= 1 && minutes <= 120)) ||
  { echo "soak: MINUTES must be 1..120, got '$minutes'" >&2; exit 2; }
H=$build/harness/lbharness
[[ -x $H ]] || { echo "soak: no $H: build first (deploy/build.sh)" >&2; exit 2; }
out=${SOAK_OUT:-$(mktemp -d /tmp/lb-soak.XXXXXX)}
mkdir -p "$out"

tick_ms=100
ticks=$((minutes * 60 * 1000 / tick_ms))
every=$((30 * 1000 / tick_ms)) # a fault every 30 s
servers=4
{
  cat <<YAML
name: soak
picker: least(client.rif)
servers: $servers
clients: 4
subset_size: 0
tick: ${tick_ms}ms
total_ticks: $ticks
mean_threads: 20
target_utilization: 1.5
max_queue: 64
timeout: 100
runs: 1
seed: 11
faults:
YAML
  k=0
  for ((at = every; at + 60 < ticks; at += every)); do
    s=$((k % servers))
    case $((k % 3)) in
      0) echo "  - {kind: kill, at: $at, for: 50, server: $s}" ;;
      1) echo "  - {kind: pause, at: $at, for: 30, server: $s}" ;;
      2) echo "  - {kind: slow, at: $at, for: 100, server: $s, factor: 3}" ;;
    esac
    k=$((k + 1))
    ((k < 60)) || break
  done
} >"$out/soak.yaml"

echo "soak: $minutes min, $servers x 4 fleet at 1.5x capacity, a fault every 30 s, into $out" \
     "(load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))" >&2
"$H" run "$out/soak.yaml" --out "$out/run" --quiet >"$out/harness.txt" 2>&1 &
harness=$!
# RSS of every daemon of this soak, every 10 s: seconds,kind,index,pid,rss_kb
echo "seconds,kind,index,pid,rss_kb" >"$out/rss.csv"
start=$(date +%s)
while kill -0 "$harness" 2>/dev/null; do
  now=$(($(date +%s) - start))
  for pid in $(pgrep -f "$out/run" || true); do
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    case $cmd in
      *lbserver*) kind=server; idx=$(sed -E 's/.*--index ([0-9]+).*/\1/' <<<"$cmd") ;;
      *lbclient*) kind=client; idx=$(sed -E 's/.*--clients ([0-9]+).*/\1/' <<<"$cmd") ;;
      *) continue ;;
    esac
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [[ -n $rss ]] && echo "$now,$kind,$idx,$pid,$rss" >>"$out/rss.csv"
  done
  sleep 10
done
rc=0
wait "$harness" || rc=$?
fail=0
report() { echo "$*" | tee -a "$out/soak.txt"; }
: >"$out/soak.txt"
((rc == 0)) || { report "FAIL: lbharness run exited $rc (see $out/harness.txt)"; fail=1; }
rundir=$out/run/soak/real/run-0
deaths=$(grep -c ',died,' "$rundir/events.csv" 2>/dev/null || true)
faults=$(grep -c ',fault_start,' "$rundir/events.csv" 2>/dev/null || true)
report "faults carried out: ${faults:-0}; daemons that died unplanned: ${deaths:-0}"
((${deaths:-0} == 0)) || fail=1
sent=0 done_=0
for f in "$rundir"/client-*.stats; do
  s=$(sed -n 's/^sent=//p' "$f"); c=$(sed -n 's/^completed=//p' "$f")
  x=$(sed -n 's/^failed=//p' "$f"); t=$(sed -n 's/^timed_out=//p' "$f")
  sent=$((sent + s)); done_=$((done_ + c + x + t))
  report "$(basename "$f" .stats): sent=$s completed=$c failed=$x timed_out=$t"
done
rows=$(($(wc -l <"$rundir/requests.csv") - 1))
report "requests sent $sent, ended $done_, rows in requests.csv $rows"
((sent > 0 && sent == done_ && rows == sent)) || { report "FAIL: requests not all accounted for"; fail=1; }
warm=$((minutes * 60 / 5 < 120 ? minutes * 60 / 5 : 120))
# Per daemon (kind, index) and pid: RSS at the first sample past warm-up and
# at its last sample; a restarted server's new pid starts again.
if ! awk -F, -v warm="$warm" '
  NR == 1 { next }
  { key = $2 " " $3 " pid " $4
    if ($1 >= warm && !(key in base)) base[key] = $5
    last[key] = $5; lastt[key] = $1 }
  END {
    bad = 0
    for (k in base) {
      if (lastt[k] < warm + 60) continue # too short-lived to judge
      limit = base[k] * 1.25 + 4096
      grew = (last[k] > limit) ? " (grew)" : ""
      printf "rss %s: %d KiB after warm-up, %d KiB at the end%s\n", k, base[k], last[k], grew
      if (last[k] > limit) bad = 1
    }
    exit bad
  }' "$out/rss.csv" | tee -a "$out/soak.txt"; then
  report "FAIL: resident memory grew after warm-up"
  fail=1
fi
((fail == 0)) && report "soak: PASS ($minutes min, $sent requests)" || report "soak: FAIL"
exit $fail
