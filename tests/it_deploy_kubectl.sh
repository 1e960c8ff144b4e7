#!/usr/bin/env bash
# The Kubernetes manifests of `lbharness deploy k8s` pass
#   kubectl apply --dry-run=client --validate=false -f DIR
# against an API server that serves only discovery (tests/fake_kube_api.py:
# no cluster is needed or touched): every object is recognised and would be
# created. Skips (77) where kubectl or python3 is missing (deploy/setup.sh
# --containers installs Debian's kubectl).
set -euo pipefail
source "$(dirname "$0")/fleet_test_lib.sh"
S=${LB_SOURCE_DIR:?LB_SOURCE_DIR must point at the source tree}
H=$B/harness/lbharness
require_bins "$H"
KUBECTL=${KUBECTL:-kubectl}
command -v "$KUBECTL" >/dev/null || { echo "SKIP: no kubectl (deploy/setup.sh --containers)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
make_out lbh-kubectl

python3 "$S/tests/fake_kube_api.py" >"$OUT/port" 2>"$OUT/requests.log" &
api=$!
trap 'kill $api 2>/dev/null; fleet_test_cleanup' EXIT
for _ in $(seq 1 50); do [[ -s $OUT/port ]] && break; sleep 0.1; done
[[ -s $OUT/port ]] || fail "the fake API server did not start"
cat >"$OUT/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "http://127.0.0.1:$(cat "$OUT/port")"}
contexts:
- name: fake
  context: {cluster: fake, namespace: default}
current-context: fake
users: []
YAML

check() { # NAME DEPLOY-ARGS...: the manifests' six objects would be created
  local name=$1
  shift
  "$H" deploy k8s "$S/scenarios/quick.yaml" --out "$OUT/$name" "$@" 2>/dev/null
  local rc=0
  timeout 60 "$KUBECTL" --kubeconfig "$OUT/kubeconfig" apply --dry-run=client --validate=false \
    -f "$OUT/$name" >"$OUT/$name.txt" 2>&1 || rc=$?
  cat "$OUT/$name.txt"
  [[ $rc -eq 0 ]] || fail "$name: kubectl apply --dry-run=client exited $rc"
  local obj
  for obj in configmap/lbt-scenario persistentvolumeclaim/lbt-logs pod/lbt-logs-reader \
    service/server statefulset.apps/server job.batch/client; do
    grep -q "^$obj created" "$OUT/$name.txt" || fail "$name: kubectl did not take $obj"
  done
}
check plain
check limits --namespace lbt-exp --client-procs 2 --start-in 30 \
  --set server_cpus=0.5 --set server_memory=512m
grep -q "/namespaces/lbt-exp/statefulsets/server" "$OUT/requests.log" ||
  fail "the namespace was not applied"
echo "PASS"
