#!/usr/bin/env bash
# Installs what `npm run demo` and `npm test` need on a machine that has only Node, npm and apt:
# pnpm (through npm: corepack cannot fetch it here) and the workspace's dependencies.
set -euo pipefail
cd "$(dirname "$0")/../.."

PNPM_VERSION=10.34.9

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION with npm" >&2
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >&2
fi

# Native addons (i2c-bus, ssh2's cpu-features) build against the machine's own Node headers;
# without this node-gyp tries to download them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi

stamp=node_modules/.growoff-install-stamp
changed() {
  [ ! -f "$stamp" ] && return 0
  [ -n "$(find package.json pnpm-workspace.yaml pnpm-lock.yaml apps libs tools docker -maxdepth 2 \
    \( -name package.json -o -name pnpm-lock.yaml -o -name pnpm-workspace.yaml \) -newer "$stamp" 2>/dev/null)" ]
}
# One install at a time: `npm test` and `npm run demo` may start together.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/growoff-pnpm.lock"
  flock 9
fi
if changed; then
  echo "bootstrap: installing dependencies" >&2
  # CI installs exactly the lockfile; a developer's run also takes package.json edits into it.
  if [ -n "${CI:-}" ]; then
    pnpm install --frozen-lockfile >&2
  else
    pnpm install >&2
  fi
  touch "$stamp"
fi
