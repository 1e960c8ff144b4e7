#!/usr/bin/env bash
# Builds a minimal Debian base image for lbtestbed's containers without any
# image registry: debootstrap (variant minbase) from the apt mirror this
# machine already uses, with the daemons' runtime libraries, imported into
# podman or docker. Does nothing when the image is already there.
#
# Usage: deploy/base-image.sh [--engine podman|docker] [--tag TAG]
#                             [--suite SUITE] [--mirror URL] [--force]
#   --engine  podman (default when installed) or docker
#   --tag     default localhost/lbtestbed-base:SUITE (what lbharness looks for)
#   --suite   default this machine's Debian codename (/etc/os-release)
#   --mirror  default the first Debian mirror in /etc/apt/sources.list{,.d/*}
#   --force   rebuild even if the image exists
# Needs root (debootstrap) and the debootstrap package (deploy/setup.sh
# --containers installs it). Prints the image's name on stdout.
set -euo pipefail

engine="" tag="" suite="" mirror="" force=0
# What lbserver and lbclient link against on Debian 12 (bookworm).
include="libuv1,libprotobuf-c1,libgsl27,libgslcblas0,libyaml-0-2"

die() { echo "base-image: $*" >&2; exit 1; }

while (($#)); do
  case "$1" in
  --engine) engine=${2:?--engine needs a value}; shift 2 ;;
  --tag) tag=${2:?--tag needs a value}; shift 2 ;;
  --suite) suite=${2:?--suite needs a value}; shift 2 ;;
  --mirror) mirror=${2:?--mirror needs a value}; shift 2 ;;
  --force) force=1; shift ;;
  -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (--help)" ;;
  esac
done

if [ -z "$engine" ]; then
  if command -v podman >/dev/null; then engine=podman
  elif command -v docker >/dev/null; then engine=docker
  else die "no container engine: install podman (deploy/setup.sh --containers)"; fi
fi
command -v "$engine" >/dev/null || die "--engine $engine: not installed"

if [ -z "$suite" ]; then
  # shellcheck disable=SC1091
  suite=$(. /etc/os-release 2>/dev/null && [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}") || true
  [ -n "$suite" ] || die "this is not a Debian machine: give --suite and --mirror"
fi
[ -n "$tag" ] || tag="localhost/lbtestbed-base:$suite"

# The image carries the suite and package list it was made from: a changed
# list makes a new one.
want="$suite $include"
if ((force == 0)) && have=$("$engine" image inspect --format '{{index .Config.Labels "lbtestbed.base"}}' "$tag" 2>/dev/null); then
  if [ "$have" = "$want" ] || [ "$have" = "<no value>" -a "$tag" != "localhost/lbtestbed-base:$suite" ]; then
    echo "$tag"
    exit 0
  fi
fi

if [ -z "$mirror" ]; then
  # deb822 files (URIs: with Suites: naming the suite), then one-line ones.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    mirror=$(awk -v s="$suite" '
      /^$/ { if (ok && uri != "") { print uri; exit } ok = 0; uri = "" }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
      END { if (ok && uri != "") print uri }' "$f" | head -n1)
    [ -n "$mirror" ] && break
  done
  if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk -v s="$suite" '$1 == "deb" { u = $2; if (u ~ /^\[/) u = $3; for (i = 2; i <= NF; i++) if ($i == s) { print u; exit } }' | head -n1)
  fi
  [ -n "$mirror" ] || die "no apt mirror for '$suite' in /etc/apt/sources.list*: give --mirror URL"
fi

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "debootstrap is not installed (deploy/setup.sh --containers)"

rootfs=$(mktemp -d /var/tmp/lbtestbed-rootfs.XXXXXX)
trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
trap 'exit 130' INT TERM
echo "base-image: debootstrap $suite from $mirror (about a minute)" >&2
if ! debootstrap --variant=minbase --include="$include" "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
  tail -n 5 "$rootfs.log" >&2
  rm -f "$rootfs.log"
  die "debootstrap failed"
fi
rm -f "$rootfs.log"
# Smaller: no package caches or lists, no documentation.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
if ! tar -C "$rootfs" --numeric-owner -c . |
  "$engine" import --change "LABEL lbtestbed.base=\"$want\"" --change 'CMD ["/bin/sh"]' - "$tag" >"$rootfs.log" 2>&1; then
  tail -n 5 "$rootfs.log" >&2
  die "$engine import failed"
fi
echo "base-image: imported $tag" >&2
echo "$tag"
