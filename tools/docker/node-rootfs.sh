# shellcheck shell=bash
# Sourced by build-node-base-image.sh and build-arm-node-base-image.sh: the parts of a Node base
# image's root that do not depend on the CPU, and its import as one layer.

# rootfs_add_npm ROOT: npm (JavaScript, any CPU) from this machine's Node installation.
rootfs_add_npm() {
  local npm_dir
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/lib/node_modules/npm
  [ -d "$npm_dir" ] || return 0
  mkdir -p "$1/usr/local/lib/node_modules" "$1/usr/local/bin"
  cp -a "$npm_dir" "$1/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"
}

# rootfs_finish ROOT: busybox's applets (ROOT/bin/busybox must be there), CA certificates, and the
# root, node (uid 1000) and nobody users.
rootfs_finish() {
  local root=$1 applet
  for applet in sh ls cat cp mv rm mkdir chmod chown ln env wget sleep echo test grep sed id kill ps find tr; do
    ln -sf busybox "$root/bin/$applet"
  done
  mkdir -p "$root/etc/ssl/certs" "$root/home/node"
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
  chown 1000:1000 "$root/home/node"
}

# rootfs_import ROOT TAG NODE_VERSION PATH [docker import options...]: the root as a one-layer image.
rootfs_import() {
  local root=$1 tag=$2 version=$3 path=$4
  shift 4
  tar -C "$root" -c . | docker import "$@" \
    --change "ENV PATH=$path" \
    --change "ENV NODE_VERSION=$version" \
    --change 'WORKDIR /app' \
    --change 'CMD ["node"]' \
    - "$tag" >/dev/null
  echo "$tag"
}
