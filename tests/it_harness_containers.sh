#!/usr/bin/env bash
# lbharness compare scenarios/quick.yaml --hosts containers (one run): the
# fleet runs as one container per server and per client process, every
# request is accounted for, the comparison gives a verdict, and nothing is
# left behind (containers, networks, volumes, build folders, gate files);
# then the generated compose file run by podman-compose 1.0 (where
# installed: aligned start without healthchecks, `up` ends by itself, every
# request in the logs volume); then a run stopped by Ctrl-C in the middle
# leaves nothing either.
# Skips (exit 77) without a container engine, unless LB_REQUIRE_CONTAINERS=1
# (CI, deploy/test.sh), and in sanitizer builds (their binaries need
# libraries the image lacks).
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
S=${LB_SOURCE_DIR:?LB_SOURCE_DIR must point at the source tree}
H=$B/harness/lbharness
require_bins "$H" "$B/lbserver/lbserver" "$B/lbclient/lbclient"

skip() {
  if [[ ${LB_REQUIRE_CONTAINERS:-0} == 1 ]]; then fail "$* (LB_REQUIRE_CONTAINERS=1)"; fi
  echo "SKIP: $*"
  exit 77
}
if grep -Eq '^LB_(SANITIZE|TSAN):BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null; then
  echo "SKIP: a sanitizer build (the containers run a plain build's binaries)"
  exit 77
fi
engine=""
if command -v podman >/dev/null; then engine=podman
elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker
else skip "no container engine (podman, or docker with its daemon): deploy/setup.sh --containers"; fi
if [[ $engine == podman && $(id -u) != 0 ]]; then
  skip "podman as root is what this test knows to work (rootless: see docs/fleets.md)"
fi
make_out lbh-ctr

# What the engine holds before: the test must leave exactly that.
snapshot() {
  {
    "$engine" ps -a --format '{{.Names}}' | sort
    echo "--"
    "$engine" network ls --format '{{.Name}}' | sort
    echo "--"
    "$engine" volume ls --format '{{.Name}}' | sort
  } 2>&1
}
before=$(snapshot)
leftovers() { # WHEN
  local now
  now=$(snapshot)
  [[ $now == "$before" ]] || fail "$1: the engine holds more than before:"$'\n'"$(diff <(echo "$before") <(echo "$now") || true)"
  [[ -z $("$engine" ps -a -q --filter label=lbtestbed.fleet) ]] || fail "$1: lbtestbed containers left"
  no_strays "$1"
  local gates
  gates=$(find "$OUT" -name '.go-*' -o -name '.ready-*')
  [[ -z $gates ]] || fail "$1: gate files left: $gates"
  [[ -z $(find /var/tmp -maxdepth 1 -name "lbtestbed-image.*" -newer "$OUT" 2>/dev/null) ]] ||
    fail "$1: an image build folder left in /var/tmp"
}

# 1. compare: the simulator and one real run in containers. The first run
# on a machine builds the base image (about a minute) and the run image
# (seconds); later ones reuse both while the binaries do not change.
rc=0
timeout -s INT 500 "$H" compare "$S/scenarios/quick.yaml" --hosts containers --engine "$engine" \
  --runs 1 --out "$OUT/cmp" --quiet >"$OUT/cmp.txt" 2>"$OUT/cmp.err" || rc=$?
cat "$OUT/cmp.txt" "$OUT/cmp.err"
[[ $rc -eq 0 ]] || fail "lbharness compare --hosts containers exited $rc"
RUN=$OUT/cmp/quick/real/run-0
accounted "$RUN"
rows=$(($(wc -l <"$RUN/requests.csv") - 1))
[[ $rows -eq $SENT ]] || fail "requests.csv has $rows records for $SENT requests sent"
((COMPLETED == SENT)) || fail "$COMPLETED of $SENT requests completed"
for i in 0 1 2 3; do
  grep -q '^cpu_seconds=' "$RUN/server-$i.stats" || fail "server $i wrote no stats (not drained?)"
  grep -q 'draining (SIGTERM)' "$RUN/server-$i.log" || fail "server $i was not stopped by SIGTERM"
done
# Validity depends on the machine's load, not on the containers: any verdict.
grep -Eq '^verdict: (holds|undecided|does not hold|too few runs|not judged)' "$OUT/cmp.txt" || fail "no verdict"
grep -q "containers.*$engine" "$OUT/cmp.txt" || fail "the comparison does not say it ran in containers"
grep -q "^quick: server container limits: none$" "$OUT/cmp.txt" || fail "the comparison does not say the limits"
leftovers "after compare"

# 2. The generated compose file with podman-compose 1.0 (where installed):
# it starts the fleet aligned without healthchecks, `up` returns by itself
# because the servers end when the clients are done, every request is in
# the logs volume; down -v and the network podman-compose leaves go.
if [[ $engine == podman ]] && command -v podman-compose >/dev/null; then
  image=$(sed -n 's/^fleet: .*, image //p' "$OUT/cmp.txt")
  [[ -n $image ]] || fail "no image named in the fleet line"
  [[ -f $OUT/cmp/containers.conf ]] && export CONTAINERS_CONF=$OUT/cmp/containers.conf
  mkdir -p "$OUT/compose"
  "$H" deploy compose "$S/scenarios/quick.yaml" --out "$OUT/compose/compose.yaml" --image "$image" \
    --set server_cpus=1 --set server_memory=256m
  project=lbt-it-$$
  rc=0
  (cd "$OUT/compose" && timeout -s INT 180 podman-compose -p "$project" -f compose.yaml up \
    >"$OUT/compose/up.txt" 2>&1) || rc=$?
  logs=$(podman volume inspect "${project}_logs" --format '{{.Mountpoint}}' 2>/dev/null || true)
  if [[ -n $logs ]]; then
    mkdir -p "$OUT/compose/logs"
    for f in "$logs"/run0-*; do cp "$f" "$OUT/compose/logs/${f##*/run0-}"; done
  fi
  (cd "$OUT/compose" && podman-compose -p "$project" -f compose.yaml down -v >/dev/null 2>&1) || true
  podman network rm "${project}_fleet" >/dev/null 2>&1 || true
  [[ $rc -eq 0 ]] || { tail -n 20 "$OUT/compose/up.txt"; fail "podman-compose up exited $rc"; }
  [[ $(grep -c "lbserver exited: 0" "$OUT/compose/up.txt") -eq 4 ]] ||
    { tail -n 20 "$OUT/compose/up.txt"; fail "not every server ended by itself with status 0"; }
  [[ -n $logs ]] || fail "no logs volume"
  accounted "$OUT/compose/logs" "podman-compose"
  ((COMPLETED == SENT)) || fail "podman-compose: $COMPLETED of $SENT requests completed"
  [[ $(cat "$OUT/compose/logs"/client-*.csv | grep -vc '^test_stage') -eq $SENT ]] ||
    fail "podman-compose: the clients' logs do not hold every request"
  unset CONTAINERS_CONF
  leftovers "after podman-compose"
else
  echo "(podman-compose not installed: the compose file is not run)"
fi

# 3. Ctrl-C once the fleet is up: everything goes. Its servers have limits,
# one per server: the containers have them while they run.
"$H" run "$S/scenarios/quick.yaml" --hosts containers --engine "$engine" --runs 1 \
  --set server_cpus=1,1,0.5,0.5 --set server_memory=256m,256m,256m,128m \
  --out "$OUT/int" --quiet >"$OUT/int.txt" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  [[ -e $OUT/int/quick/real/run-0/client-0.csv ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[[ -e $OUT/int/quick/real/run-0/client-0.csv ]] || { cat "$OUT/int.txt"; fail "the interrupted run never started its clients"; }
limits=$("$engine" ps --filter label=lbtestbed.fleet --format '{{.Names}}' | grep -- '-s[0-9]*$' |
  sort | xargs -r "$engine" inspect --format '{{.HostConfig.NanoCpus}}/{{.HostConfig.Memory}}' | tr '\n' ' ')
kill -INT "$pid"
[[ $limits == "1000000000/268435456 1000000000/268435456 500000000/268435456 500000000/134217728 " ]] ||
  fail "server containers' limits: '$limits'"
rc=0
wait "$pid" || rc=$?
cat "$OUT/int.txt"
[[ $rc -eq 130 ]] || fail "lbharness run after SIGINT exited $rc, expected 130"
grep -q "interrupted by signal 2" "$OUT/int.txt" || fail "no word of the interruption"
leftovers "after Ctrl-C"
echo "PASS"
