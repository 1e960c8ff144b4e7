#!/usr/bin/env bash
# lbclient against a hostile server on loopback: a Python stand-in that
# answers every request (and probe) STATUS_OK with a load report full of
# NaN and infinity and a hold_ns near 2^63. Before the wire checks a NaN
# report made a client running prequal spin at 100 % CPU, deaf to SIGTERM
# and --max-runtime. Now: the client ends on time, exit 0, every such
# answer failed and counted (failed_bad_response), every request accounted.
# Bounded: the stand-in exits after 60 s, the client runs under timeout.
set -euo pipefail
B=${LB_BINARY_DIR:?LB_BINARY_DIR must point at the build tree}
CLI=$B/lbclient/lbclient
[[ -x $CLI ]] || { echo "FAIL: $CLI is not built"; exit 1; }
OUT=$(mktemp -d /tmp/lbclient-hostile.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$OUT"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$OUT"/*.err; do [[ -f $f ]] && { echo "--- $f"; tail -20 "$f"; }; done
  exit 1
}
stat_of() { sed -n "s/^$2=//p" "$1"; }

cat > "$OUT/hostile.py" <<'PY'
import math, selectors, socket, struct, sys, time
def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])
def key(f, wt): return varint((f << 3) | wt)
def ln(f, b): return key(f, 2) + varint(len(b)) + b
def vi(f, n): return key(f, 0) + varint(n)
def dbl(f, x): return key(f, 1) + struct.pack("<d", x)
def fields(buf):  # (field, value) of the varint and length-delimited fields
    i = 0
    while i < len(buf):
        k, i = read_varint(buf, i)
        f, wt = k >> 3, k & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type")
        yield f, v
def read_varint(buf, i):
    n = s = 0
    while True:
        b = buf[i]; i += 1
        n |= (b & 0x7F) << s; s += 7
        if not b & 0x80:
            return n, i
def stat(x): return vi(1, 1) + dbl(2, x) + dbl(3, x) + dbl(4, x)
def answer(req):
    rid = probe = 0
    for f, v in fields(req):
        if f == 1: rid = v
        if f == 2: probe = v
    rep = (ln(1, stat(math.nan)) + ln(2, stat(math.inf)) + ln(3, stat(math.nan)) +
           ln(4, stat(math.nan)) + ln(5, stat(math.nan)) + vi(6, 1) + dbl(7, math.nan) +
           dbl(8, math.nan) + dbl(9, math.inf) + dbl(10, math.nan) + vi(13, 4))
    resp = vi(1, rid) + vi(2, probe) + ln(4, rep) + vi(7, (1 << 63) - 1)
    env = vi(1, 1) + ln(3, resp)
    return struct.pack(">I", len(env)) + env
lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(16); lst.setblocking(False)
open(sys.argv[1] + ".tmp", "w").write(str(lst.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
sel = selectors.DefaultSelector(); sel.register(lst, selectors.EVENT_READ)
bufs = {}
end = time.monotonic() + 60
while time.monotonic() < end:
    for k, _ in sel.select(0.5):
        s = k.fileobj
        if s is lst:
            c, _ = lst.accept(); c.setblocking(True)
            sel.register(c, selectors.EVENT_READ); bufs[c] = b""
            continue
        data = s.recv(65536)
        if not data:
            sel.unregister(s); s.close(); del bufs[s]; continue
        bufs[s] += data
        out = b""
        while len(bufs[s]) >= 4:
            n = struct.unpack(">I", bufs[s][:4])[0]
            if len(bufs[s]) < 4 + n: break
            env, bufs[s] = bufs[s][4:4 + n], bufs[s][4 + n:]
            for f, v in fields(env):
                if f == 2: out += answer(v)
        if out: s.sendall(out)
PY

cat > "$OUT/s.yaml" <<YAML
name: client-hostile
picker: prequal
servers: 1
clients: 1
subset_size: 0
tick: 2ms
total_ticks: 500
mean_requests_per_server_per_tick: 1
mean_processing_time: 2
mean_threads: 20
max_cooldown: 100
seed: 3
YAML

python3 "$OUT/hostile.py" "$OUT/port" 2> "$OUT/hostile.err" &
PIDS+=($!)
for _ in $(seq 1 500); do [[ -s $OUT/port ]] && break; sleep 0.02; done
[[ -s $OUT/port ]] || fail "the hostile server wrote no port"
PORT=$(cat "$OUT/port")

rc=0
timeout -s KILL 30 "$CLI" --scenario "$OUT/s.yaml" --clients 0:1 \
  --servers "127.0.0.1:$PORT:$PORT" --log "$OUT/c.csv" --stats "$OUT/c.stats" \
  --max-runtime 10 > "$OUT/c.out" 2> "$OUT/c.err" || rc=$?
((rc == 0)) || fail "lbclient exited $rc against a NaN-reporting server (137: killed, it hung)"
s=$(stat_of "$OUT/c.stats" sent)
c=$(stat_of "$OUT/c.stats" completed)
f=$(stat_of "$OUT/c.stats" failed)
t=$(stat_of "$OUT/c.stats" timed_out)
bad=$(stat_of "$OUT/c.stats" failed_bad_response)
((s > 0)) || fail "no request was sent"
((c + f + t == s)) || fail "completed $c + failed $f + timed_out $t != sent $s"
((c == 0)) || fail "$c requests completed on out-of-range answers"
((bad > 0)) || fail "no answer was counted in failed_bad_response"
rows=$(($(wc -l < "$OUT/c.csv") - 1))
((rows == s)) || fail "the log has $rows rows for $s requests"
echo "PASS: sent=$s failed=$f failed_bad_response=$bad"
