#!/bin/sh
# The install layer of every app image, before the sources are copied and before APP is known: the
# toolchain, pnpm, and `pnpm install` of what the three apps need (their workspace libraries'
# dependencies and the root's build tools), native addons (i2c-bus) compiled here, for the platform
# being built. One layer for core, updater and tunnel: the second and third builds reuse it.
#
# Usage (from the context root, after install-inputs.sh's files): install-deps.sh MODE
#   MODE source:   install (the context is the repository);
#   MODE prepared: nothing to do (the context carries the deploy; see deploy-app.sh).
set -eu

mode=$1
pnpm_version=10.34.9

case "$mode" in
  source) ;;
  prepared) exit 0 ;;
  *)
    echo "install-deps: unknown mode '$mode' (source or prepared)" >&2
    exit 1
    ;;
esac

[ -f pnpm-lock.yaml ] || { echo "install-deps: pnpm-lock.yaml missing from the build context (APP_DEPS=source builds from the repository root)" >&2; exit 1; }
if ! command -v g++ >/dev/null 2>&1; then
  apt-get update
  apt-get install -y --no-install-recommends python3 make g++
  rm -rf /var/lib/apt/lists/*
fi
npm install --global "pnpm@$pnpm_version"
# node-gyp builds i2c-bus against this image's own Node headers, not a download.
export npm_config_nodedir=/usr/local
# The root's build tools (tsup) come too: a filtered install always includes the workspace root.
pnpm install --frozen-lockfile --filter '@growoff/core...' --filter '@growoff/updater...' --filter '@growoff/tunnel...'
