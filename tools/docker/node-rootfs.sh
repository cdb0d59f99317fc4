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

# rootfs_import ROOT TAG NODE_VERSION PATH [PLATFORM]: the root as a one-layer image. With PLATFORM
# (linux/arm64, linux/arm/v7) the image is loaded with that platform in its config, which
# `docker import --platform` does not record on every engine.
rootfs_import() {
  local root=$1 tag=$2 version=$3 path=$4 platform=${5:-}
  if [ -n "$platform" ]; then
    local dir diff_id config
    dir=$(mktemp -d)
    tar -C "$root" -cf "$dir/layer.tar" .
    diff_id=sha256:$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
    # shellcheck disable=SC2016 # a JavaScript program, not shell
    config=$(node -e '
      const [platform, diffId, path, version] = process.argv.slice(1);
      const [os, architecture, variant] = platform.split("/");
      console.log(JSON.stringify({
        os, architecture, ...(variant ? { variant } : {}), created: new Date().toISOString(),
        config: { Env: [`PATH=${path}`, `NODE_VERSION=${version}`], WorkingDir: "/app", Cmd: ["node"] },
        rootfs: { type: "layers", diff_ids: [diffId] },
      }));' "$platform" "$diff_id" "$path" "$version")
    printf '%s' "$config" >"$dir/config.json"
    mv "$dir/config.json" "$dir/$(sha256sum "$dir/config.json" | cut -d' ' -f1).json"
    printf '[{"Config":"%s","RepoTags":["%s"],"Layers":["layer.tar"]}]' \
      "$(basename "$dir"/*.json)" "$tag" >"$dir/manifest.json"
    tar -C "$dir" -c manifest.json layer.tar "$(basename "$dir"/[0-9a-f]*.json)" | docker load --quiet >/dev/null
    rm -rf "$dir"
    echo "$tag"
    return
  fi
  tar -C "$root" -c . | docker import \
    --change "ENV PATH=$path" \
    --change "ENV NODE_VERSION=$version" \
    --change 'WORKDIR /app' \
    --change 'CMD ["node"]' \
    - "$tag" >/dev/null
  echo "$tag"
}
