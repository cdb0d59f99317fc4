#!/usr/bin/env bash
# Builds the arm *build* base image of the APP_DEPS=source path (docker/app/Dockerfile's BUILD_IMAGE):
# the run base's Node and headers, plus a compiler, make and python3 for node-gyp, and sh and the
# core utilities the build stage's script uses. Debian packages of SUITE for the target, only
# unpacked (`mmdebstrap --variant=extract`: no maintainer script runs, so nothing is emulated here).
# It trusts this machine's CA certificates (NODE_EXTRA_CA_CERTS), as npm here does, so the emulated
# `pnpm install` reaches the registry through the same network.
# Usage: build-arm-build-base-image.sh arm64|armv7 SUITE NODE_DIR|debian TAG   (DOCKER_HOST: the engine)
#   NODE_DIR: an unpacked node-linux-* package, copied to /usr/local;
#   debian:   SUITE's own nodejs and libnode-dev (Debian trixie's Node 20.19 for armv7).
set -euo pipefail
# shellcheck source=tools/docker/node-rootfs.sh
source "$(dirname "$0")/node-rootfs.sh"

arch=${1:?arch: arm64 or armv7}
suite=${2:?Debian suite}
node=${3:?an unpacked Node package, or debian}
tag=${4:?tag}
case "$arch" in
  arm64) debian_arch=arm64 platform=linux/arm64 ;;
  armv7) debian_arch=armhf platform=linux/arm/v7 ;;
  *)
    echo "build-arm-build-base-image: unknown arch '$arch' (arm64 or armv7)" >&2
    exit 1
    ;;
esac
packages=dash,bash,coreutils,findutils,sed,grep,tar,gzip,g++,make,python3,ca-certificates
[ "$node" = debian ] && packages=$packages,nodejs,libnode-dev

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mirror=$(sed -n 's/^URIs:[[:space:]]*//p; s/^deb[[:space:]]\+\(http[^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1 || true)
mmdebstrap --quiet --variant=extract --architectures="$debian_arch" --include="$packages" \
  "$suite" "$root" "deb ${mirror:?no Debian mirror in /etc/apt/sources.list*} $suite main" >&2
rm -rf "${root:?}"/{dev,var/cache/apt,usr/share/doc,usr/share/man,usr/share/locale}
# What maintainer scripts and alternatives would have made: merged /usr, sh, cc and c++.
for link in lib bin sbin; do [ -e "$root/$link" ] || ln -s "usr/$link" "$root/$link"; done
[ -e "$root/usr/bin/sh" ] || ln -s dash "$root/usr/bin/sh"
ln -sf gcc "$root/usr/bin/cc"
ln -sf g++ "$root/usr/bin/c++"
mkdir -p "$root"/{tmp,root,etc,usr/local/bin,usr/local/include}
chmod 1777 "$root/tmp"

if [ "$node" = debian ]; then
  version=$(sed -n 's/^#define NODE_\(MAJOR\|MINOR\|PATCH\)_VERSION \([0-9]*\)$/\2/p' "$root/usr/include/node/node_version.h" | paste -sd.)
  # deploy-app.sh builds addons against /usr/local's headers, where the official images have them.
  ln -s ../../bin/node "$root/usr/local/bin/node"
  ln -s ../../include/node "$root/usr/local/include/node"
else
  version=$(node -p 'require(process.argv[1]).version' "$node/package.json")
  cp "$node/bin/node" "$root/usr/local/bin/node"
  cp -a "$node/include/node" "$root/usr/local/include/node"
fi
rootfs_add_npm "$root"
mkdir -p "$root/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
rootfs_import "$root" "$tag.tmp" "$version" /usr/local/bin:/usr/bin:/bin "$platform" >/dev/null

# The CA bundle for Node's own TLS (npm and pnpm), as a config-only step (nothing runs emulated).
context=$(mktemp -d)
printf 'FROM %s\nENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt\n' "$tag.tmp" >"$context/Dockerfile"
docker build --quiet --tag "$tag" "$context" >/dev/null
rm -rf "$context"
docker rmi "$tag.tmp" >/dev/null
echo "$tag"
