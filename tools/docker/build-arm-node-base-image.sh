#!/usr/bin/env bash
# Builds an arm Docker base image the way build-node-base-image.sh builds the x86 one, for image
# builds and tests where Docker Hub cannot be reached: the target's Node (the npm registry's
# node-linux-* package), its C and C++ libraries from Debian's *-cross packages, Debian's
# busybox-static for the target as /bin/sh, npm (JavaScript, from this machine), CA certificates and
# a `node` user (uid 1000), imported as one layer for the target's platform. Running it needs qemu
# registered with binfmt_misc (`npm run services -- arm` sets all of it up).
# Usage: build-arm-node-base-image.sh arm64|armv7 NODE_DIR TAG   (DOCKER_HOST selects the engine)
set -euo pipefail

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
rm -rf "$root"/{dev,var,usr/share/doc,usr/share/man}
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

npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/lib/node_modules/npm
if [ -d "$npm_dir" ]; then
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
fi

for applet in sh ls cat cp mv rm mkdir chmod chown ln env wget sleep echo test grep sed id kill ps find tr; do
  ln -sf busybox "$root/bin/$applet"
done

mkdir -p "$root/etc/ssl/certs"
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/node"

tar -C "$root" -c . | docker import \
  --platform "$platform" \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change "ENV NODE_VERSION=$(node -p 'require(process.argv[1]).version' "$node_dir/package.json")" \
  --change 'WORKDIR /app' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
echo "$tag"
