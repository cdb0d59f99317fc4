#!/bin/sh
# The first stage of every app image: copies to OUT only what the dependencies' install reads (the
# lockfile, the workspace's manifests, pnpm's settings) and the script that installs them, so the
# install layer that follows is the same for the three apps and reused until one of these changes.
# A prepared context (APP_DEPS=prepared) has none of them: OUT then holds the script alone.
#
# Usage (from the context root): install-inputs.sh OUT
set -eu

out=$1
mkdir -p "$out/tools/images/stage"
cp tools/images/stage/install-deps.sh "$out/tools/images/stage/"
for f in pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc .pnpmfile.cjs; do
  if [ -f "$f" ]; then cp "$f" "$out/"; fi
done
if [ -d patches ]; then cp -a patches "$out/"; fi
# Every workspace package's manifest (apps/*, libs/*, tools/*, docker/telegraf: all one level down).
# (node_modules/*/package.json, in a developer's tree, is not one.)
for f in */*/package.json; do
  if [ -f "$f" ] && [ "${f%%/*}" != node_modules ]; then
    mkdir -p "$out/${f%/package.json}"
    cp "$f" "$out/$f"
  fi
done
