#!/usr/bin/env bash
# Builds a Docker base image from this machine's own Node.js, for image builds and tests where
# Docker Hub cannot be reached: node, npm, the shared libraries ldd names, busybox for /bin/sh,
# CA certificates and a `node` user (uid 1000), imported as one layer.
# Usage: build-node-base-image.sh [TAG]   (DOCKER_HOST selects the engine; default TAG growoff/node-base:local)
set -euo pipefail
# shellcheck source=tools/docker/node-rootfs.sh
source "$(dirname "$0")/node-rootfs.sh"

tag=${1:-growoff/node-base:local}
node_bin=$(readlink -f "$(command -v node)")
busybox=/bin/busybox
if [ ! -x "$busybox" ]; then
  echo "build-node-base-image: installing busybox-static" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static >/dev/null
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/local/bin,usr/local/lib,etc,tmp,home/node,app,root}
chmod 1777 "$root/tmp"

cp "$node_bin" "$root/usr/local/bin/node"
# Every library the dynamic loader needs, at the path ldd names, plus the loader itself.
ldd "$node_bin" | awk '/=>/ { print $3 } !/=>/ && /^[ \t]*\// { print $1 }' | while read -r lib; do
  [ -f "$lib" ] || continue
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

rootfs_add_npm "$root"
cp "$busybox" "$root/bin/busybox"
ln -s /bin "$root/usr/bin"
rootfs_finish "$root"
rootfs_import "$root" "$tag" "$("$node_bin" --version | tr -d v)" /usr/local/bin:/bin
