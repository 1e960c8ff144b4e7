#!/usr/bin/env bash
# lbharness's command line, without starting any fleet: every option of
# run, compare and deploy is in its --help; bad input is refused with a
# message that names what and where, and the documented exit status
# (2 for a bad command line, 1 for a bad scenario), and nothing is created.
set -euo pipefail
B=${LB_BINARY_DIR:?LB_BINARY_DIR must point at the build tree}
H=$B/harness/lbharness
[[ -x $H ]] || { echo "FAIL: $H is not built"; exit 1; }
OUT=$(mktemp -d /tmp/lbh-cli.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$OUT"

# expect STATUS PATTERN ARGS...: exit status and a stderr line matching PATTERN.
expect() {
  local want=$1 pattern=$2 rc=0
  shift 2
  "$H" "$@" >"$OUT/stdout" 2>"$OUT/stderr" || rc=$?
  [[ $rc -eq $want ]] || fail "lbharness $*: exit $rc, expected $want ($(cat "$OUT/stderr"))"
  grep -Eq -- "$pattern" "$OUT/stderr" ||
    fail "lbharness $*: stderr does not match '$pattern':"$'\n'"$(cat "$OUT/stderr")"
}

echo "== help"
"$H" --help >top.txt
for c in "lbharness run" "lbharness compare" "lbharness deploy"; do
  grep -q "$c" top.txt || fail "--help lacks $c"
done
"$H" run --help >run.txt
"$H" compare --help >compare.txt
"$H" deploy --help >deploy.txt
for opt in --runs --out --hosts --engine --image --base --fallback-inproc --client-procs --set \
  --bin-dir --quiet --help; do
  grep -Eq -- "^  (-h, )?$opt" run.txt || fail "run --help does not explain $opt"
  grep -Eq -- "^  (-h, )?$opt" compare.txt || fail "compare --help does not explain $opt"
done
for opt in --sim-csv --real-csv --real-dir --mean-tol --p99-tol --phase-tol --tol --force; do
  grep -Eq -- "^  (-h, )?$opt" compare.txt || fail "compare --help does not explain $opt"
  grep -q -- "$opt" run.txt && fail "run --help mentions compare's $opt"
done
for opt in --out --client-procs --run --image --namespace --start-in --start-at-realtime-ns \
  --fleet --dist --dist-dir --rate --no-delay --set netem-check netem-plan netem-apply; do
  grep -q -- "$opt" deploy.txt || fail "deploy --help lacks $opt"
done

echo "== bad command lines (exit 2)"
expect 2 "^lbharness: unknown command 'frob'" frob
expect 2 "^lbharness run: unknown option '--bogus' \(see --help\)$" run --bogus x.yaml
expect 2 "^lbharness compare: --out: expected a value" compare x.yaml --out
expect 2 "^lbharness run: --runs: expected an integer in 1\.\.1000000, got '0'$" run --runs 0 x.yaml
expect 2 "^lbharness run: --client-procs: expected an integer in 1\.\.1000000, got '1.5'$" \
  run --client-procs 1.5 x.yaml
expect 2 "^lbharness run: --hosts: expected local, netns or containers, got 'lan'$" run --hosts lan x.yaml
expect 2 "^lbharness run: --set 'servers': expected FIELD=VALUE$" run --set servers x.yaml
expect 2 "^lbharness compare: --mean-tol: 'mean=x': expected a tolerance .*, got 'x'$" \
  compare --mean-tol x x.yaml
expect 2 "^lbharness compare: --tol: 'p98=5%': unknown figure 'p98'" compare --tol p98=5% x.yaml
expect 2 "^lbharness run: --tol is an option of compare" run --tol p99=5% x.yaml
expect 2 "^lbharness run: --engine: expected podman or docker, got 'lxc'$" \
  run --hosts containers --engine lxc x.yaml
expect 2 "^lbharness compare: --engine, --image and --base are for --hosts containers$" \
  compare --image lbtestbed:latest x.yaml
expect 2 "^lbharness run: --real-csv is an option of compare" run --real-csv a.csv x.yaml
expect 2 "^lbharness run: expected at least one scenario file" run
expect 2 "^lbharness compare: --real-csv and --real-dir: expected one of them" \
  compare --real-csv a.csv --real-dir d x.yaml
expect 2 "^lbharness compare: --real-csv: the files are the runs of one scenario" \
  compare --real-csv a.csv x.yaml y.yaml
expect 2 "^lbharness compare: --runs: with --real-dir" compare --real-dir d --runs 2 x.yaml
expect 2 "^deploy compose: unknown option '--bogus'" deploy compose --bogus x.yaml
expect 2 "^deploy k8s: expected one SCENARIO file, got 0" deploy k8s
expect 2 "^deploy: unknown command 'frob'" deploy frob

echo "== bad scenarios (exit 1, named FILE[:LINE] and field)"
printf 'name: c\nservers: 2\nclients: 2\npicker: least(client.nope)\n' >bad-picker.yaml
printf 'name: c\nservers: 2\nclients: 2\nsubset_size: 2\npicker: random\n' >good.yaml
expect 1 "^lbharness: nosuch.yaml: cannot open scenario" run nosuch.yaml
expect 1 "^lbharness: nosuch.yaml: cannot open scenario.*left out" compare nosuch.yaml
expect 1 "^lbharness: bad-picker.yaml:4: field 'picker': .*unknown client metric 'nope'" \
  run bad-picker.yaml
expect 1 "^lbharness: good.yaml: --set 'sevrers=3': field 'sevrers': .*did you mean 'servers'" \
  run good.yaml --set sevrers=3
expect 1 "^lbharness: good.yaml: --set 'servers=abc': field 'servers': expected an integer" \
  run good.yaml --set servers=abc
expect 1 "^lbharness: good.yaml: --set 'picker=nosuch': field 'picker': .*unknown picker 'nosuch'" \
  compare good.yaml --set picker=nosuch
expect 1 "^deploy: --set 'sevrers=1': field 'sevrers'" deploy compose good.yaml --set sevrers=1
expect 1 "--real-csv: nope.csv: no such file" compare good.yaml --real-csv nope.csv
expect 1 "--real-dir nodir: no such folder" compare good.yaml --real-dir nodir
expect 1 "^lbharness: good.yaml: field 'server_cpus': expected CPUs > 0, one value or 2" \
  run good.yaml --set server_cpus=1,1,1
# Containers: a machine without an engine is told so in one line, before
# anything starts; a scenario that cannot run in containers likewise.
printf '#!/bin/sh\nPATH=/nonexistent exec %q "$@"\n' "$H" >nopath.sh
chmod +x nopath.sh
H_REAL=$H
H=$OUT/nopath.sh
expect 1 "^lbharness: --hosts containers: no container engine on this machine: podman is not installed, and docker is not installed; install podman" \
  run --hosts containers good.yaml
[[ $(wc -l <"$OUT/stderr") -eq 1 ]] || fail "no engine: more than one line: $(cat "$OUT/stderr")"
expect 1 "^lbharness: --hosts containers: c: field 'picker': .* the oracle board" \
  compare --hosts containers good.yaml --set picker=least\(oracle.rif\)
[[ ! -e out/c ]] || fail "a refused scenario left out/c behind"

echo "== one report per folder"
mkdir -p full && touch full/mine.txt
expect 1 "^lbharness: --out full: the folder is not empty .*--force" compare good.yaml --out full
expect 1 "^lbharness: --out full --force: the folder holds files that lbharness compare did not" \
  compare good.yaml --out full --force
[[ -e full/mine.txt ]] || fail "--force removed a folder compare did not write"

H=$H_REAL

echo "== deploy/ scripts from any build tree, and installed"
# A copy of lbharness outside any source tree finds netns.sh in the sources
# it was built from; an installed one in PREFIX/share/lbtestbed.
mkdir -p elsewhere
cp "$H" elsewhere/lbharness
env -u LB_SOURCE_DIR -u LB_NETNS_SCRIPT elsewhere/lbharness deploy netns help >netns-help.txt ||
  fail "a copied lbharness cannot run deploy/netns.sh"
grep -q "up FLEET" netns-help.txt || fail "deploy netns help: not netns.sh's usage"
cmake --install "$B" --prefix "$OUT/inst" >/dev/null 2>&1 || fail "cmake --install failed"
for f in bin/lbharness bin/lbsim bin/lbserver bin/lbclient share/lbtestbed/netns.sh \
  share/lbtestbed/base-image.sh; do
  [[ -x $OUT/inst/$f ]] || fail "cmake --install did not install $f"
done
# Marked, so that its usage text tells it from the source tree's.
sed -i '2i # (installed copy)' "$OUT/inst/share/lbtestbed/netns.sh"
env -u LB_SOURCE_DIR -u LB_NETNS_SCRIPT "$OUT/inst/bin/lbharness" deploy netns help >inst-help.txt ||
  fail "the installed lbharness cannot run netns.sh"
grep -q "(installed copy)" inst-help.txt ||
  fail "the installed lbharness did not run its own share/lbtestbed/netns.sh"
echo "PASS"
