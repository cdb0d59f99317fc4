#!/bin/sh
# The build stage of every app image: leaves in OUT the app's bundle (dist/), package.json and its
# production node_modules (flat, so the bundle's imports of its libraries' dependencies resolve),
# with the native i2c-bus addon built for the image's platform, plus the health-check script.
#
# Usage (inside the build stage, from the context root): deploy-app.sh APP MODE OUT
#   APP            core, updater or tunnel (the Dockerfile's APP build argument).
#   MODE source:   the context is the repository, installed by install-deps.sh in the layer before;
#                  build the app and `pnpm deploy --prod` here, for the platform being built.
#   MODE prepared: the context holds .prepared/, the same deploy made by @growoff/images on a host
#                  of this architecture and Node ABI (no toolchain or network needed; checked).
set -eu

app=$1
mode=$2
out=$3

case "$app" in
  core | updater | tunnel) ;;
  *)
    echo "deploy-app: APP is '$app'; build with --build-arg APP=core, updater or tunnel" >&2
    exit 1
    ;;
esac

case "$mode" in
  source)
    # install-deps.sh installed the dependencies in the layer before the sources came.
    [ -d node_modules ] || { echo "deploy-app: node_modules missing: install-deps.sh runs first (docker/app/Dockerfile)" >&2; exit 1; }
    export npm_config_nodedir=/usr/local
    pnpm --filter "@growoff/$app" run build
    pnpm --filter "@growoff/$app" deploy --prod --legacy --config.node-linker=hoisted "$out"
    ;;
  prepared)
    [ -f .prepared/prepared.json ] || { echo "deploy-app: .prepared/prepared.json missing from the build context" >&2; exit 1; }
    # shellcheck disable=SC2016 # a JavaScript program, not shell
    node -e '
      const p = require(process.cwd() + "/.prepared/prepared.json");
      const here = { arch: process.arch, modules: process.versions.modules };
      if (p.app !== process.argv[1]) {
        console.error(`deploy-app: the context was prepared for ${p.app}, not ${process.argv[1]}; build with the same APP`);
        process.exit(1);
      }
      if (p.arch !== here.arch || p.modules !== here.modules) {
        console.error(`deploy-app: dependencies were prepared for ${p.arch} / Node ABI ${p.modules}, this image is ${here.arch} / ${here.modules}; build with APP_DEPS=source`);
        process.exit(1);
      }' "$app"
    mkdir -p "$out"
    cp -a .prepared/app/. "$out/"
    ;;
  *)
    echo "deploy-app: unknown mode '$mode' (source or prepared)" >&2
    exit 1
    ;;
esac

[ -f "$out/dist/main.js" ] || { echo "deploy-app: $out/dist/main.js missing: the app was not built" >&2; exit 1; }
# Only what runs: the bundle, package.json and node_modules. The workspace libraries are bundled
# into dist/, so their copies in node_modules go; so do the addon's intermediate build files.
find "$out" -mindepth 1 -maxdepth 1 ! -name dist ! -name package.json ! -name node_modules -exec rm -rf {} +
rm -rf "$out/node_modules/@growoff" "$out/node_modules/.bin" "$out/node_modules/.pnpm" "$out/node_modules/.modules.yaml"
find "$out/node_modules" -type d \( -name obj.target -o -name .deps \) -prune -exec rm -rf {} +
find "$out/dist" -name '*.map' -exec rm -f {} +
cp tools/images/stage/healthcheck.mjs "$out/healthcheck.mjs"
