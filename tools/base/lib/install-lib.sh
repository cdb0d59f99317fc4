# shellcheck shell=bash
# Sourced by tools/base/install.sh and tools/os/provision.sh (which copies it into the image with the
# installer): reading KEY=VALUE configuration, and writing files and links only when they change,
# counting what did. Sourcing it sets `changed` (the count), `is_root` and a private scratch folder
# removed on exit.

changed=0
is_root=false
[ "$(id -u)" = 0 ] && is_root=true
lib_scratch=$(mktemp -d)
trap 'rm -rf "$lib_scratch"' EXIT

# die MESSAGE — the script's name and MESSAGE on stderr, exit code 2 (a refused configuration).
die() {
  echo "$(basename "$0"): $*" >&2
  exit 2
}

# read_conf FILE ALLOWED WHAT — FILE's KEY=VALUE lines into the associative array `conf` (blank
# lines and # comments skipped); a VALUE that does not match the regular expression ALLOWED is
# refused as containing WHAT.
read_conf() {
  local file=$1 allowed=$2 what=$3 name line line_no=0 key value
  name=$(basename "$file")
  while IFS= read -r line || [ -n "$line" ]; do
    line_no=$((line_no + 1))
    case "$line" in '' | '#'*) continue ;; esac
    [[ "$line" =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]] || die "$name line $line_no is not KEY=VALUE: '$line'"
    key=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    [[ "$value" =~ $allowed ]] || die "$name: $key must not contain $what"
    # shellcheck disable=SC2034,SC2004 # `conf` is the caller's associative array
    conf[$key]=$value
  done <"$file"
}

# write_if_changed TARGET MODE OWNER SHOWN — writes stdin to TARGET unless its content is already
# the same, printing "changed SHOWN" when it writes; MODE always, OWNER (uid:gid; empty: none) when
# running as root. The content is compared from a scratch copy first, so an unchanged file's folder
# is not touched either; a new version is created with its final mode beside the target and moved
# into place, so a power cut leaves the old file or the new one, never half of one.
write_if_changed() {
  local target=$1 mode=$2 owner=$3 shown=$4 tmp
  cat >"$lib_scratch/next"
  if ! { [ -f "$target" ] && cmp -s "$lib_scratch/next" "$target"; }; then
    mkdir -p "$(dirname "$target")"
    tmp=$(mktemp "$(dirname "$target")/.growoff.XXXXXX")
    chmod "$mode" "$tmp"
    cat "$lib_scratch/next" >"$tmp"
    mv -f "$tmp" "$target"
    echo "changed $shown"
    changed=$((changed + 1))
  fi
  chmod "$mode" "$target"
  if $is_root && [ -n "$owner" ]; then chown "$owner" "$target"; fi
}

# link_if_changed PATH TARGET SHOWN — PATH a symlink to TARGET, replaced only when it points
# elsewhere ("changed SHOWN").
link_if_changed() {
  if [ "$(readlink "$1" 2>/dev/null)" != "$2" ]; then
    mkdir -p "$(dirname "$1")"
    ln -sfn "$2" "$1"
    echo "changed $3"
    changed=$((changed + 1))
  fi
}
