#!/usr/bin/env bash
# Installs every Debian package lbtestbed's build, tests and reports need.
# Idempotent, and quiet when everything is already present.
# --containers: also what `lbharness --hosts containers` and the compose
# and Kubernetes files need: podman with runc, podman-compose, debootstrap
# (deploy/base-image.sh) and kubectl (the manifests' dry-run test). The
# engine's settings for this machine are not installed anywhere: lbharness
# writes them into its own out folder (CONTAINERS_CONF).
set -euo pipefail
containers=0
[ "${1:-}" = "--containers" ] && containers=1

PACKAGES=(
  build-essential cmake pkg-config
  libuv1-dev libprotobuf-c-dev protobuf-c-compiler libgsl-dev libyaml-dev libcmocka-dev
  libhttp-parser-dev curl wrk prometheus
  # scenario proxy: haproxy|nginx (harness/harness_proxy.c, it_harness_proxy)
  haproxy nginx-light
  iproute2 procps
  # the lockstep test runs the seed notebook's own code beside lbsim
  python3 python3-numpy python3-pandas python3-scipy
)
if ((containers)); then
  # Named, not left to Recommends (installed without them): netavark and
  # aardvark-dns (else podman falls back on CNI), iptables for its rules.
  PACKAGES+=(podman runc netavark aardvark-dns iptables podman-compose debootstrap)
  # kubectl: Debian's kubernetes-client, unless one is installed already
  command -v kubectl >/dev/null || PACKAGES+=(kubernetes-client)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# haproxy, nginx and prometheus come with system services that would start
# on install and keep ports 80 and 9090; lbharness runs its own copies, so
# the services are kept from starting (policy-rc.d, only while installing
# and only when the machine has none of its own).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# lbtestbed deploy/setup.sh: no service starts while installing\nexit 101\n' |
    $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
