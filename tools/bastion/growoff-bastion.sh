#!/usr/bin/env bash
# Sets up an OpenSSH bastion for GrowOff reverse tunnels: the sshd settings for the tunnel account,
# one narrow authorized_keys line per module, and the end-to-end probe the modules run through it.
#
#   growoff-bastion.sh sshd-config --user USER [--authorized-keys FILE] [--client-alive-interval S]
#                                  [--client-alive-count-max N]
#   growoff-bastion.sh add-key --authorized-keys FILE --module ID --port PORT --public-key FILE|-
#   growoff-bastion.sh remove-key --authorized-keys FILE --module ID
#   growoff-bastion.sh list --authorized-keys FILE
#   growoff-bastion.sh probe [PORT | --authorized-keys FILE]   (the forced command; not for people)
set -euo pipefail

readonly PROG=${0##*/}
readonly COMMENT_PREFIX='growoff-module:'
readonly PROBE_GREETING='GROWOFF-PROBE'

die() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 2
}

usage() {
  sed -n '5,10p' "$0" | sed 's/^# \{0,3\}//' >&2
  exit 2
}

# The absolute path of this script, which module keys run as their forced command.
self_path() {
  local dir
  dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
  printf '%s/%s' "$dir" "${BASH_SOURCE[0]##*/}"
}

valid_module() { [[ $1 =~ ^[A-Za-z0-9_.-]{1,64}$ ]]; }
valid_port() { [[ $1 =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1024 && 10#$1 <= 65535)); }

# --- sshd-config ------------------------------------------------------------------------------
# The settings for the tunnel account. They sit in a Match block so that engineers' own accounts
# keep the local forwarding that `ssh -J` needs.
sshd_config() {
  local user='' keys='' interval=10 count=3
  while (($#)); do
    case $1 in
      --user) user=${2:?--user needs a value}; shift 2 ;;
      --authorized-keys) keys=${2:?--authorized-keys needs a value}; shift 2 ;;
      --client-alive-interval) interval=${2:?}; shift 2 ;;
      --client-alive-count-max) count=${2:?}; shift 2 ;;
      *) usage ;;
    esac
  done
  [[ -n $user ]] || die 'sshd-config needs --user (the account the modules log in as)'
  [[ $user =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "not a user name: $user"
  [[ -z $keys || $keys =~ ^/[A-Za-z0-9_./-]+$ ]] || die "--authorized-keys must be an absolute path without spaces: $keys"
  [[ $interval =~ ^[0-9]+$ && $count =~ ^[0-9]+$ ]] || die 'client-alive values must be whole numbers'
  cat <<CONF
# GrowOff tunnel account: key login only, reverse forwards only, each to the loopback port its
# key permits (permitlisten in authorized_keys), and dead sessions reaped so their port frees up.
# ForceCommand runs the probe whatever the key line says, so a key added by hand without
# command= gets no shell either; ExposeAuthInfo tells the probe which key logged in.
Match User $user
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	AllowTcpForwarding remote
	GatewayPorts no
	PermitOpen none
	AllowStreamLocalForwarding no
	AllowAgentForwarding no
	X11Forwarding no
	PermitTunnel no
	PermitTTY no
	PermitUserRC no
	ExposeAuthInfo yes
	ForceCommand $(self_path) probe${keys:+ --authorized-keys $keys}
	ClientAliveInterval $interval
	ClientAliveCountMax $count
Match all
CONF
}

# --- authorized_keys --------------------------------------------------------------------------
read_public_key() {
  local source=$1 line
  if [[ $source == - ]]; then
    IFS= read -r line || true
  else
    [[ -r $source ]] || die "cannot read public key file: $source"
    IFS= read -r line <"$source" || true
  fi
  local type blob
  read -r type blob _ <<<"$line"
  [[ $type == ssh-ed25519 ]] || die "the module key must be ssh-ed25519 (got '${type:-nothing}')"
  [[ $blob =~ ^[A-Za-z0-9+/]+=*$ ]] || die 'the public key is not in OpenSSH format'
  printf '%s %s' "$type" "$blob"
}

key_line() {
  local module=$1 port=$2 key=$3
  printf 'restrict,port-forwarding,permitlisten="localhost:%s",command="%s probe %s" %s %s%s\n' \
    "$port" "$(self_path)" "$port" "$key" "$COMMENT_PREFIX" "$module"
}

# Lines of FILE other than the ones for MODULE or carrying KEY.
other_lines() {
  local file=$1 module=$2 key=${3:-}
  [[ -f $file ]] || return 0
  awk -v c="$COMMENT_PREFIX$module" -v k="$key" '
    { drop = 0
      if ($NF == c) drop = 1
      if (k != "") { split(k, kp, " "); for (i = 1; i < NF; i++) if ($i == kp[1] && $(i + 1) == kp[2]) drop = 1 }
      if (!drop) print }' "$file"
}

# The file's owner and mode as sshd must find them. sshd reads authorized_keys as the account it
# logs in, so the file takes the owner of its folder: the account's own .ssh (mode 600), or a
# root-owned folder (root, mode 644: readable by the account, writable by root only). Run as root,
# this also repairs a file an earlier version left root-owned and unreadable.
fix_owner() {
  local file=$1 dir owner
  dir=$(dirname "$file")
  owner=$(stat -c %u:%g "$dir")
  if ((EUID == 0)); then chown "$owner" "$file"; fi
  if [[ ${owner%%:*} == 0 ]]; then chmod 644 "$file"; else chmod 600 "$file"; fi
}

write_atomically() {
  local file=$1 content tmp
  content=$(sed '/^$/d' <<<"$2")
  if [[ -f $file ]] && [[ $(cat "$file") == "$content" ]]; then
    fix_owner "$file"
    echo 'unchanged'
    return 0
  fi
  mkdir -p "$(dirname "$file")"
  tmp=$(mktemp "$file.XXXXXX")
  if [[ -n $content ]]; then printf '%s\n' "$content" >"$tmp"; fi
  fix_owner "$tmp"
  mv -f "$tmp" "$file"
  echo 'updated'
}

add_key() {
  local file='' module='' port='' pub=''
  while (($#)); do
    case $1 in
      --authorized-keys) file=${2:?}; shift 2 ;;
      --module) module=${2:?}; shift 2 ;;
      --port) port=${2:?}; shift 2 ;;
      --public-key) pub=${2:?}; shift 2 ;;
      *) usage ;;
    esac
  done
  [[ -n $file && -n $module && -n $port && -n $pub ]] || usage
  valid_module "$module" || die "not a module id: $module"
  valid_port "$port" || die "the tunnel port must be 1024-65535: $port"
  local key rest holder
  key=$(read_public_key "$pub")
  rest=$(other_lines "$file" "$module" "$key")
  holder=$(awk -v p="permitlisten=\"localhost:$port\"" 'index($0, p) { print $NF }' <<<"$rest")
  [[ -z $holder ]] || die "port $port is already given to ${holder#"$COMMENT_PREFIX"}"
  write_atomically "$file" "$(printf '%s\n%s' "$rest" "$(key_line "$module" "$port" "$key")")"
}

remove_key() {
  local file='' module=''
  while (($#)); do
    case $1 in
      --authorized-keys) file=${2:?}; shift 2 ;;
      --module) module=${2:?}; shift 2 ;;
      *) usage ;;
    esac
  done
  [[ -n $file && -n $module ]] || usage
  valid_module "$module" || die "not a module id: $module"
  [[ -f $file ]] || { echo 'unchanged'; return 0; }
  write_atomically "$file" "$(other_lines "$file" "$module")"
}

list_keys() {
  [[ ${1:-} == --authorized-keys && -n ${2:-} ]] || usage
  [[ -f $2 ]] || return 0
  awk -v c="$COMMENT_PREFIX" 'index($NF, c) == 1 && match($0, /permitlisten="localhost:[0-9]+"/) {
      print substr($NF, length(c) + 1), substr($0, RSTART + 24, RLENGTH - 25) }' "$2"
}

# --- probe ------------------------------------------------------------------------------------
# The port a module key may listen on, from its own authorized_keys line: the key that logged in is
# the `publickey` line of $SSH_USER_AUTH (sshd's ExposeAuthInfo). Nothing for a key that add-key
# did not write.
port_of_login() {
  local file=$1 type blob
  [[ -r ${SSH_USER_AUTH:-} && -r $file ]] || return 1
  read -r _ type blob _ < <(grep -m1 '^publickey ' "$SSH_USER_AUTH") || return 1
  awk -v t="$type" -v b="$blob" -v c="$COMMENT_PREFIX" '
    index($NF, c) == 1 {
      for (i = 1; i < NF; i++) if ($i == t && $(i + 1) == b && match($0, /permitlisten="localhost:[0-9]+"/)) {
        print substr($0, RSTART + 24, RLENGTH - 25); exit
      }
    }' "$file"
}

# Runs on the bastion as the tunnel account's forced command. The module asks `growoff-probe NONCE`;
# this connects to the module's own loopback port, which leads back through its reverse forward, and
# relays the module's answer. A reply carrying the nonce proves the forward works end to end. The
# port is the key line's argument (`command="… probe PORT"`), or, as sshd's ForceCommand, looked up
# from the key that logged in.
probe() {
  local port='' verb nonce extra reply
  if [[ ${1:-} == --authorized-keys ]]; then
    port=$(port_of_login "${2:?}") || port=''
  elif (($#)); then
    port=$1
  else
    port=$(port_of_login "${HOME:-/nonexistent}/.ssh/authorized_keys") || port=''
  fi
  read -r verb nonce extra <<<"${SSH_ORIGINAL_COMMAND:-}"
  if ! valid_port "$port" || [[ ${verb:-} != growoff-probe || ! ${nonce:-} =~ ^[A-Za-z0-9]{16,64}$ || -n ${extra:-} ]]; then
    echo 'this key only holds a GrowOff reverse tunnel; no shell, no commands' >&2
    exit 1
  fi
  exec 3<>"/dev/tcp/127.0.0.1/$port" || { echo "PROBE-FAIL no listener on $port"; exit 3; }
  printf '%s %s\n' "$PROBE_GREETING" "$nonce" >&3
  if IFS= read -r -t 5 reply <&3; then
    printf '%s\n' "$reply"
  else
    echo 'PROBE-FAIL no answer through the forward'
    exit 4
  fi
}

main() {
  local command=${1:-}
  (($#)) && shift
  case $command in
    sshd-config) sshd_config "$@" ;;
    add-key) add_key "$@" ;;
    remove-key) remove_key "$@" ;;
    list) list_keys "$@" ;;
    probe) probe "$@" ;;
    *) usage ;;
  esac
}

main "$@"
