#!/usr/bin/env bash
# Builds a Docker base image from this machine's own Node.js, for image builds and tests where
# Docker Hub cannot be reached: node, npm, the shared libraries ldd names, busybox for /bin/sh,
# CA certificates and a `node` user (uid 1000), imported as one layer.
# Usage: build-node-base-image.sh [TAG]   (DOCKER_HOST selects the engine; default TAG growoff/node-base:local)
set -euo pipefail

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

npm_dir=$(dirname "$(dirname "$node_bin")")/lib/node_modules/npm
if [ -d "$npm_dir" ]; then
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
fi

cp "$busybox" "$root/bin/busybox"
for applet in sh ls cat cp mv rm mkdir chmod chown ln env wget sleep echo test grep sed id kill ps; do
  ln -s busybox "$root/bin/$applet"
done
ln -s /bin "$root/usr/bin"

mkdir -p "$root/etc/ssl/certs"
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/node"

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/bin' \
  --change 'ENV NODE_VERSION='"$("$node_bin" --version | tr -d v)" \
  --change 'WORKDIR /app' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
echo "$tag"
