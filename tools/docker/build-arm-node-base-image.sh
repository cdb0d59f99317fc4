#!/usr/bin/env bash
# Builds an arm Docker base image the way build-node-base-image.sh builds the x86 one, for image
# builds and tests where Docker Hub cannot be reached: the target's Node (the npm registry's
# node-linux-* package), its C and C++ libraries from Debian's *-cross packages, Debian's
# busybox-static for the target as /bin/sh, npm (JavaScript, from this machine), CA certificates and
# a `node` user (uid 1000), imported as one layer for the target's platform. Running it needs qemu
# registered with binfmt_misc (`npm run services -- arm` sets all of it up).
# Usage: build-arm-node-base-image.sh arm64|armv7 NODE_DIR TAG   (DOCKER_HOST selects the engine)
set -euo pipefail
# shellcheck source=tools/docker/node-rootfs.sh
source "$(dirname "$0")/node-rootfs.sh"

arch=${1:?arch: arm64 or armv7}
node_dir=${2:?the unpacked node-linux-* package}
tag=${3:?tag}
case "$arch" in
  arm64) debian_arch=arm64 triplet=aarch64-linux-gnu platform=linux/arm64 ;;
  armv7) debian_arch=armhf triplet=arm-linux-gnueabihf platform=linux/arm/v7 ;;
  *)
    echo "build-arm-node-base-image: unknown arch '$arch' (arm64 or armv7)" >&2
    exit 1
    ;;
esac
sysroot=/usr/$triplet

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# Only unpacks the target's busybox-static (no maintainer scripts): quick, and nothing runs emulated.
# From this machine's own Debian mirror, main suite only (a security mirror mid-sync fails the lot).
mirror=$(sed -n 's/^URIs:[[:space:]]*//p; s/^deb[[:space:]]\+\(http[^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1 || true)
mmdebstrap --quiet --variant=extract --architectures="$debian_arch" --include=busybox-static \
  bookworm "$root" "deb ${mirror:?no Debian mirror in /etc/apt/sources.list*} bookworm main" >&2
rm -rf "${root:?}"/{dev,var,usr/share/doc,usr/share/man}
mkdir -p "$root"/{usr/local/bin,usr/local/lib,lib,etc,tmp,home/node,app,root}
chmod 1777 "$root/tmp"

cp "$node_dir/bin/node" "$root/usr/local/bin/node"
# The dynamic loader and every library Node needs, transitively (readelf, as ldd cannot run it here).
cp -L "$sysroot"/lib/ld-linux*.so.* "$root/lib/"
queue=("$node_dir/bin/node")
while [ ${#queue[@]} -gt 0 ]; do
  file=${queue[0]}
  queue=("${queue[@]:1}")
  for lib in $(readelf -d "$file" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    [ -e "$root/lib/$lib" ] && continue
    cp -L "$sysroot/lib/$lib" "$root/lib/$lib"
    queue+=("$root/lib/$lib")
  done
done

rootfs_add_npm "$root"
rootfs_finish "$root"
rootfs_import "$root" "$tag" "$(node -p 'require(process.argv[1]).version' "$node_dir/package.json")" \
  /usr/local/bin:/usr/bin:/bin "$platform"
