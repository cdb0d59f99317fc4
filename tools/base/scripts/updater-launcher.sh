#!/usr/bin/env bash
# Runs the module's one updater container; growoff-updater.service runs this script and nothing else
# (the updater brings up the core, Telegraf and the tunnel from their specs).
#
# It runs the committed updater image named by `current=` in the launcher's state file, which the
# updater writes atomically when it commits a new release of itself (tools/base writes the first).
# The container's `docker run` arguments come from that image itself (`node dist/main.js spec
# updater`), so the host needs no Node and the image and its spec never disagree. When an updater
# already runs (the new one an updater handed over to, or one that outlived this script), it waits
# on that one instead of starting another. When `current` fails RESTARTS times in a row, each time
# within WINDOW_S of its start, it falls back to `previous=` and records `failed=`.
#
# Environment (defaults are a module's):
#   GROWOFF_LAUNCHER_STATE      /var/lib/growoff/updater/launcher.state
#   GROWOFF_UPDATER_ENV_FILE    /etc/growoff/updater.env (the env file the spec is rendered with)
#   GROWOFF_MANAGED_BY          growoff-updater (the label value of the module's containers)
#   GROWOFF_LAUNCHER_RESTARTS   3     GROWOFF_LAUNCHER_WINDOW_S 300     GROWOFF_LAUNCHER_BACKOFF_S 5
#   DOCKER_HOST                 the engine, as for the docker CLI
set -uo pipefail

state=${GROWOFF_LAUNCHER_STATE:-/var/lib/growoff/updater/launcher.state}
env_file=${GROWOFF_UPDATER_ENV_FILE:-/etc/growoff/updater.env}
managed_by=${GROWOFF_MANAGED_BY:-growoff-updater}
restarts=${GROWOFF_LAUNCHER_RESTARTS:-3}
window=${GROWOFF_LAUNCHER_WINDOW_S:-300}
backoff=${GROWOFF_LAUNCHER_BACKOFF_S:-5}
filters=(--filter "label=growoff.app=updater" --filter "label=growoff.managed-by=$managed_by")

log() { echo "growoff-launcher: $*" >&2; }

# state_get KEY — the value of KEY= in the state file (empty when unset or no file).
state_get() {
  [ -f "$state" ] || return 0
  sed -n "s/^$1=//p" "$state" | tail -n 1
}

# state_put CURRENT PREVIOUS FAILED — replaces the state file atomically (empty values left out).
state_put() {
  local tmp="$state.launcher.tmp"
  {
    [ -z "$1" ] || echo "current=$1"
    [ -z "$2" ] || echo "previous=$2"
    [ -z "$3" ] || echo "failed=$3"
  } >"$tmp" && sync "$tmp" && mv -f "$tmp" "$state" && sync "$(dirname "$state")"
}

running_updater() {
  docker ps --quiet "${filters[@]}" --filter status=running | head -n 1
}

# start IMAGE — renders IMAGE's spec and starts its container; prints the container id.
start() {
  local image=$1 rendered args=()
  rendered=$(docker run --rm --network none --env-file "$env_file" "$image" node dist/main.js spec updater) ||
    return 1
  mapfile -t args <<<"$rendered"
  docker run --detach "${args[@]}" "$image"
}

# failed_fast IMAGE — counts a quick failure of IMAGE; after RESTARTS in a row, falls back.
crashes=0
crashed_image=''
failed_fast() {
  local image=$1 current previous
  current=$(state_get current)
  [ "$image" = "$current" ] || return 0
  [ "$image" = "$crashed_image" ] || crashes=0
  crashed_image=$image
  crashes=$((crashes + 1))
  log "updater $image failed ($crashes of $restarts)"
  previous=$(state_get previous)
  if [ "$crashes" -ge "$restarts" ] && [ -n "$previous" ] && [ "$previous" != "$current" ]; then
    log "updater $current crash-loops; falling back to $previous"
    state_put "$previous" "$current" "$current"
    crashes=0
  fi
  sleep "$backoff"
}

id=''
exit_file=$(mktemp)
stop() {
  if [ -n "$id" ]; then docker stop --time 30 "$id" >/dev/null 2>&1; fi
  exit 0
}
trap stop TERM INT
trap 'rm -f "$exit_file"' EXIT

while :; do
  id=$(running_updater)
  image=''
  if [ -z "$id" ]; then
    image=$(state_get current)
    if [ -z "$image" ]; then
      log "no committed updater image in $state"
      exit 1
    fi
    # Leftovers of an updater that exited (its successor removes them too).
    docker ps --all --quiet "${filters[@]}" --filter status=exited --filter status=created |
      xargs -r docker rm --force >/dev/null
    if ! id=$(start "$image"); then
      id=''
      failed_fast "$image"
      continue
    fi
    log "started updater $image as ${id:0:12}"
  else
    image=$(docker inspect --format '{{.Config.Image}}' "$id" 2>/dev/null)
    log "waiting on the running updater ${id:0:12} ($image)"
  fi
  started=$(date -d "$(docker inspect --format '{{.State.StartedAt}}' "$id" 2>/dev/null)" +%s 2>/dev/null ||
    date +%s)
  # In the background so the TERM trap runs while it waits.
  : >"$exit_file"
  docker wait "$id" >"$exit_file" 2>/dev/null &
  wait $! || true
  code=$(cat "$exit_file")
  log "updater ${id:0:12} exited (${code:-gone})"
  id=''
  if [ -z "$code" ]; then
    # The engine went away (a Docker restart keeps the container with live-restore): look again.
    sleep "$backoff"
  elif [ "$code" != 0 ] && [ $(($(date +%s) - started)) -lt "$window" ]; then
    failed_fast "$image"
  else
    crashes=0
  fi
done
