#!/usr/bin/env bash
# Installs a module's base software into a root filesystem (`/` on a module, a mounted image
# partition or a test folder otherwise): Docker's daemon configuration, the one systemd unit that
# runs a container (the updater, through its launcher; the updater brings up the core, Telegraf and
# the tunnel from their specs), the apps' configuration and secrets, and the ECR login that lets the
# updater's first pull happen.
#
# Idempotent: a file is rewritten only when its content differs, modes and owners are set every
# time, so a second run with the same configuration changes nothing and prints "0 changed".
#
# Usage: install.sh --root DIR --config DIR [--release-floor N]
#   --release-floor N               the fleet's release floor now (the lowest sequence among the
#                                   fleet's current signed documents): the updater refuses older ones
#   DIR/module.conf                 KEY=VALUE lines (see tools/base/README.md)
#   DIR/secrets/aws-credentials     AWS shared credentials file for ECR (installed 0600)
#   DIR/secrets/tunnel_ed25519      the module's tunnel private key (installed 0600)
#   DIR/secrets/telegraf-token      the token of Telegraf's local listener, which the apps write to
#   DIR/secrets/influx-token        the cloud InfluxDB token Telegraf writes with
#   DIR/secrets/mqtt-password       optional: the module's broker password (with MQTT_USERNAME)
#   DIR/secrets/mqtt-client.crt     optional: the module's broker client certificate (PEM) ...
#   DIR/secrets/mqtt-client.key     ... and its key (both or neither)
#   DIR/secrets/mqtt-ca.pem         optional: the CA the broker's certificate chains to
#   DIR/release-keys/*.pem          trusted Ed25519 release keys (the set is synchronised)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/base/lib/install-lib.sh
. "$here/lib/install-lib.sh"
# The uid the app images run as (the `node` user); it owns what the tunnel and core containers read.
readonly APP_UID=1000

root=''
config=''
release_floor=''
floor_given=false
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2:-}; shift 2 ;;
    --config) config=${2:-}; shift 2 ;;
    --release-floor) release_floor=${2:-}; floor_given=true; shift $(($# > 1 ? 2 : 1)) ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (usage: install.sh --root DIR --config DIR [--release-floor N])" ;;
  esac
done
[ -n "$root" ] || die "--root is required (use / on a module)"
[ -n "$config" ] || die "--config is required"
[ -d "$root" ] || die "target root '$root' is not a directory"
[ -f "$config/module.conf" ] || die "'$config/module.conf' not found"
! $floor_given || [[ "$release_floor" =~ ^[1-9][0-9]{0,14}$ ]] ||
  die "--release-floor must be a whole number >= 1, not '$release_floor'"
root=$(cd "$root" && pwd)
[ "$root" = / ] && root=''

declare -A conf=(
  [CHANNEL]=stable
  [TELEMETRY_BUCKET]=growoff
  [TUNNEL_MAX_TTL]=3600
  [TUNNEL_ALWAYS_ON]=false
  [UPDATER_HTTP_PORT]=8081
  [CORE_HTTP_PORT]=8080
)
# Values go verbatim into systemd and docker env files, which disagree on quoting: allow none.
read_conf "$config/module.conf" '^[^[:space:]"'"'"'\\]*$' 'spaces, quotes or backslashes'

for key in MODULE_ID MQTT_URL AWS_REGION ECR_REGISTRY CORE_IMAGE_REPO UPDATER_IMAGE TUNNEL_IMAGE \
  TELEGRAF_IMAGE TELEMETRY_URL TELEMETRY_ORG BASTION BASTION_USER BASTION_HOSTKEY TUNNEL_REMOTE_PORT; do
  [ -n "${conf[$key]:-}" ] || die "module.conf: $key is required"
done
[[ "${conf[MODULE_ID]}" =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || die "module.conf: MODULE_ID must be lowercase letters, digits and dashes"
# One pin, or several comma-separated while the bastion's host key is rotated (any one may match).
[[ "${conf[BASTION_HOSTKEY]}" =~ ^SHA256:[A-Za-z0-9+/]{43}(,SHA256:[A-Za-z0-9+/]{43})*$ ]] ||
  die "module.conf: BASTION_HOSTKEY must be OpenSSH SHA256: fingerprints (43 characters after SHA256:), comma-separated"
# The images tools/base starts from: by digest, so every module of a fleet runs the same bytes.
for key in UPDATER_IMAGE TUNNEL_IMAGE TELEGRAF_IMAGE; do
  [[ "${conf[$key]}" =~ ^[a-z0-9][a-z0-9._/:-]*@sha256:[a-f0-9]{64}$ ]] || die "module.conf: $key must be an image by digest (repository@sha256:…)"
done
for key in TUNNEL_REMOTE_PORT UPDATER_HTTP_PORT CORE_HTTP_PORT TUNNEL_MAX_TTL; do
  [[ "${conf[$key]}" =~ ^[0-9]+$ ]] || die "module.conf: $key must be a number"
done
for secret in aws-credentials tunnel_ed25519 telegraf-token influx-token; do
  [ -s "$config/secrets/$secret" ] || die "secret '$config/secrets/$secret' is missing or empty"
done
# The module's broker identity: a user name and password, a client certificate, or both. The
# password is checked here without ever being printed (the install log is not secret).
mqtt_password=''
if [ -e "$config/secrets/mqtt-password" ]; then
  [ -n "${conf[MQTT_USERNAME]:-}" ] || die "secrets/mqtt-password is given but module.conf has no MQTT_USERNAME"
  mqtt_password=$(tr -d '\n' <"$config/secrets/mqtt-password")
  [ -n "$mqtt_password" ] || die "secrets/mqtt-password is empty"
  [[ "$mqtt_password" =~ ^[^[:space:]\"\'\\]+$ ]] ||
    die "secrets/mqtt-password must not contain spaces, quotes or backslashes (env files cannot carry them the same way)"
fi
if [ -e "$config/secrets/mqtt-client.crt" ] || [ -e "$config/secrets/mqtt-client.key" ]; then
  for secret in mqtt-client.crt mqtt-client.key; do
    [ -s "$config/secrets/$secret" ] || die "secret '$config/secrets/$secret' is missing or empty: the client certificate needs both its certificate and its key"
  done
  grep -q -- '-----BEGIN CERTIFICATE-----' "$config/secrets/mqtt-client.crt" || die "secrets/mqtt-client.crt is not a PEM certificate"
  grep -q -- '-----BEGIN .*PRIVATE KEY-----' "$config/secrets/mqtt-client.key" || die "secrets/mqtt-client.key is not a PEM private key"
fi
if [ -e "$config/secrets/mqtt-ca.pem" ]; then
  grep -q -- '-----BEGIN CERTIFICATE-----' "$config/secrets/mqtt-ca.pem" || die "secrets/mqtt-ca.pem is not a PEM certificate"
fi

shopt -s nullglob
keys=("$config"/release-keys/*.pem)
[ ${#keys[@]} -gt 0 ] || die "no trusted release keys in '$config/release-keys' (*.pem)"

telegraf_token=$(tr -d '\n' <"$config/secrets/telegraf-token")
# ensure_dir PATH MODE OWNER — OWNER is uid:gid, applied when running as root.
ensure_dir() {
  mkdir -p "$root$1"
  chmod "$2" "$root$1"
  if $is_root; then chown "$3" "$root$1"; fi
}

# put PATH MODE OWNER — stdin to PATH under the root, written only when it changed (OWNER when root).
put() {
  write_if_changed "$root$1" "$2" "$3" "$1"
}

# install_unit UNIT — the unit file, enabled as `systemctl enable` does for
# WantedBy=multi-user.target, without a running systemd.
install_unit() {
  local link=/etc/systemd/system/multi-user.target.wants/$1.service
  put "/etc/systemd/system/$1.service" 0644 0:0 <"$here/units/$1.service"
  link_if_changed "$root$link" "/etc/systemd/system/$1.service" "$link"
}

ensure_dir /etc/growoff 0755 0:0
ensure_dir /etc/growoff/secrets 0711 0:0
ensure_dir /etc/growoff/release-keys 0755 0:0
ensure_dir /var/lib/growoff 0755 0:0
ensure_dir /var/lib/growoff/updater 0700 0:0
ensure_dir /var/lib/growoff/core 0700 "$APP_UID:$APP_UID"
ensure_dir /var/lib/growoff/tunnel 0700 "$APP_UID:$APP_UID"

# write_release_floor N — the updater's release floor (its data folder, where it reads
# GROWOFF_RELEASE_FLOOR_FILE by default): signed fleet documents below N are refused, so a new or
# reset module never accepts an old release. A floor already higher is kept: raised, never lowered.
write_release_floor() {
  local file=/var/lib/growoff/updater/release-floor current
  current=$(tr -dc '0-9' <"$root$file" 2>/dev/null || true)
  if [ -n "$current" ] && [ "$current" -gt "$1" ]; then
    echo "kept $file at $current (higher than $1)"
    return
  fi
  put "$file" 0600 0:0 <<<"$1"
}
! $floor_given || write_release_floor "$release_floor"

put /etc/docker/daemon.json 0644 0:0 <"$here/files/daemon.json"
put /usr/local/lib/growoff/ecr-login.sh 0755 0:0 <"$here/scripts/ecr-login.sh"
put /usr/local/lib/growoff/updater-launcher.sh 0755 0:0 <"$here/scripts/updater-launcher.sh"
for unit in growoff-ecr-login growoff-updater; do
  install_unit "$unit"
done
# Earlier versions ran the tunnel and Telegraf from units of their own, beside the updater's; the
# updater removes their containers, and these units must not start them again.
for unit in growoff-tunnel growoff-telegraf; do
  # On a running module (root /), stop it first: systemd would restart its container otherwise.
  if [ -z "$root" ] && [ -d /run/systemd/system ] && [ -e "/etc/systemd/system/$unit.service" ]; then
    systemctl stop "$unit.service" || true
  fi
  for path in "/etc/systemd/system/multi-user.target.wants/$unit.service" "/etc/systemd/system/$unit.service"; do
    if [ -e "$root$path" ] || [ -L "$root$path" ]; then
      rm -f "$root$path"
      echo "removed $path"
      changed=$((changed + 1))
    fi
  done
done

# The launcher's state: the updater image it runs. The updater rewrites it when it commits a
# release of itself, so it is written only when missing.
if [ ! -s "$root/var/lib/growoff/updater/launcher.state" ]; then
  put /var/lib/growoff/updater/launcher.state 0600 0:0 <<<"current=${conf[UPDATER_IMAGE]}"
fi

put /etc/growoff/secrets/aws-credentials 0600 0:0 <"$config/secrets/aws-credentials"
# Read by the tunnel container's non-root user, so owned by that uid; nobody else can read it.
put /etc/growoff/secrets/tunnel_ed25519 0600 "$APP_UID:$APP_UID" <"$config/secrets/tunnel_ed25519"

# The broker TLS files, mounted read-only into the app containers at $MQTT_TLS_IN_CONTAINER. The
# core and the tunnel run as uid/gid 1000, the updater as root: the key is root's, readable by
# group 1000 (0640); the certificates are public (0644). A file dropped from the configuration is
# removed, like a release key.
readonly MQTT_TLS_IN_CONTAINER=/run/secrets/mqtt
ensure_dir /etc/growoff/secrets/mqtt 0750 "0:$APP_UID"
declare -A mqtt_tls=()
for pair in mqtt-ca.pem:ca.pem:0644:0:0 mqtt-client.crt:client.crt:0644:0:0 "mqtt-client.key:client.key:0640:0:$APP_UID"; do
  IFS=: read -r from name mode uid gid <<<"$pair"
  if [ -s "$config/secrets/$from" ]; then
    put "/etc/growoff/secrets/mqtt/$name" "$mode" "$uid:$gid" <"$config/secrets/$from"
    mqtt_tls[$name]=$MQTT_TLS_IN_CONTAINER/$name
  elif [ -e "$root/etc/growoff/secrets/mqtt/$name" ]; then
    rm -f "$root/etc/growoff/secrets/mqtt/$name"
    echo "removed /etc/growoff/secrets/mqtt/$name"
    changed=$((changed + 1))
  fi
done

declare -A wanted_keys=()
for key in "${keys[@]}"; do
  name=$(basename "$key")
  wanted_keys[$name]=1
  put "/etc/growoff/release-keys/$name" 0644 0:0 <"$key"
done
# A key dropped from the configuration is no longer trusted: rotation removes it.
for installed in "$root"/etc/growoff/release-keys/*.pem; do
  name=$(basename "$installed")
  if [ -z "${wanted_keys[$name]:-}" ]; then
    rm -f "$installed"
    echo "removed /etc/growoff/release-keys/$name"
    changed=$((changed + 1))
  fi
done

put /etc/growoff/base.env 0644 0:0 <<EOF
# Written by tools/base/install.sh; read by /usr/local/lib/growoff/ecr-login.sh.
GROWOFF_MODULE_ID=${conf[MODULE_ID]}
AWS_REGION=${conf[AWS_REGION]}
GROWOFF_ECR_REGISTRY=${conf[ECR_REGISTRY]}
AWS_SHARED_CREDENTIALS_FILE=/etc/growoff/secrets/aws-credentials
EOF

# The core runs as a non-root user: it opens /dev/i2c-1 through the host's i2c group, by number
# (a group name would be looked up inside the image). Empty when the OS has no such group.
i2c_gid=$(awk -F: '$1 == "i2c" { print $3 }' "$root/etc/group" 2>/dev/null || true)
# Telegraf reads the Docker socket as its user with the socket's group (docker's), by number.
docker_gid=$(awk -F: '$1 == "docker" { print $3 }' "$root/etc/group" 2>/dev/null || true)

# The host's time zone (module.conf TIMEZONE, else /etc/timezone, else the /etc/localtime link):
# the default of the core's module config, which every schedule follows. The container has none.
timezone=${conf[TIMEZONE]:-$(head -n1 "$root/etc/timezone" 2>/dev/null || readlink "$root/etc/localtime" 2>/dev/null || true)}
timezone=${timezone#*zoneinfo/}
[[ "$timezone" =~ ^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$ ]] || timezone=UTC

# app_env COMMENT — the first lines of an app container's environment: COMMENT, then what every
# app shares (its module, its broker and identity there, data volume and the local Telegraf listener).
app_env() {
  echo "# Written by tools/base/install.sh. $1"
  echo "GROWOFF_MODULE_ID=${conf[MODULE_ID]}"
  echo "GROWOFF_MQTT_URL=${conf[MQTT_URL]}"
  if [ -n "${conf[MQTT_USERNAME]:-}" ]; then echo "GROWOFF_MQTT_USERNAME=${conf[MQTT_USERNAME]}"; fi
  if [ -n "$mqtt_password" ]; then echo "GROWOFF_MQTT_PASSWORD=$mqtt_password"; fi
  if [ -n "${mqtt_tls[ca.pem]:-}" ]; then echo "GROWOFF_MQTT_CA=${mqtt_tls[ca.pem]}"; fi
  if [ -n "${mqtt_tls[client.crt]:-}" ]; then
    echo "GROWOFF_MQTT_CERT=${mqtt_tls[client.crt]}"
    echo "GROWOFF_MQTT_KEY=${mqtt_tls[client.key]}"
  fi
  cat <<EOF
GROWOFF_DATA_DIR=/data
GROWOFF_TELEMETRY_URL=http://127.0.0.1:8186
GROWOFF_TELEMETRY_API=v2
GROWOFF_TELEMETRY_TOKEN=$telegraf_token
EOF
}

# The env files are `docker run --env-file` input; the broker URL may carry credentials, so they
# are 0600. The updater sees no /var/lib/docker: its free-space check reads its own data folder,
# on the same root filesystem as the engine's (GROWOFF_DOCKER_DATA_ROOT=/data).
put /etc/growoff/updater.env 0600 0:0 < <(
  app_env 'The launcher renders the updater'"'"'s container with it; the updater reads the others'"'"' env files.'
  cat <<EOF
GROWOFF_CHANNEL=${conf[CHANNEL]}
GROWOFF_CORE_IMAGE_REPO=${conf[CORE_IMAGE_REPO]}
GROWOFF_RELEASE_KEYS=/etc/growoff/release-keys
GROWOFF_UPDATER_HTTP_PORT=${conf[UPDATER_HTTP_PORT]}
GROWOFF_DOCKER_DATA_ROOT=/data
AWS_REGION=${conf[AWS_REGION]}
AWS_SHARED_CREDENTIALS_FILE=/etc/growoff/secrets/aws-credentials
GROWOFF_CORE_HTTP_PORT=${conf[CORE_HTTP_PORT]}
GROWOFF_UPDATER_IMAGE_REPO=${conf[UPDATER_IMAGE]%@*}
GROWOFF_TUNNEL_IMAGE_REPO=${conf[TUNNEL_IMAGE]%@*}
GROWOFF_TUNNEL_IMAGE=${conf[TUNNEL_IMAGE]}
GROWOFF_TELEGRAF_IMAGE_REPO=${conf[TELEGRAF_IMAGE]%@*}
GROWOFF_TELEGRAF_IMAGE=${conf[TELEGRAF_IMAGE]}
GROWOFF_DOCKER_GID=$docker_gid
GROWOFF_CORE_DEVICES=/dev/i2c-1
GROWOFF_CORE_GROUPS=$i2c_gid
GROWOFF_CORE_VOLUMES=/sys/bus/w1:/sys/bus/w1:ro
EOF
)

# The apps' env files: the updater creates each app's container from its spec with its env file.
put /etc/growoff/core.env 0600 0:0 < <(
  app_env 'The updater creates the core container with it.'
  cat <<EOF
GROWOFF_HAL=i2c
GROWOFF_HTTP_HOST=127.0.0.1
GROWOFF_HTTP_PORT=${conf[CORE_HTTP_PORT]}
GROWOFF_TIMEZONE=$timezone
EOF
)

put /etc/growoff/tunnel.env 0600 0:0 < <(
  app_env 'The updater creates the tunnel container with it.'
  cat <<EOF
GROWOFF_BASTION=${conf[BASTION]}
GROWOFF_BASTION_USER=${conf[BASTION_USER]}
GROWOFF_BASTION_HOSTKEY=${conf[BASTION_HOSTKEY]}
GROWOFF_TUNNEL_KEY=/run/secrets/tunnel_ed25519
GROWOFF_TUNNEL_LOCAL_PORT=22
GROWOFF_TUNNEL_REMOTE_PORT=${conf[TUNNEL_REMOTE_PORT]}
GROWOFF_TUNNEL_MAX_TTL=${conf[TUNNEL_MAX_TTL]}
GROWOFF_TUNNEL_ALWAYS_ON=${conf[TUNNEL_ALWAYS_ON]}
EOF
)

# Names as docker/telegraf/telegraf.conf expands them.
put /etc/growoff/telegraf.env 0600 0:0 <<EOF
# Written by tools/base/install.sh. The updater creates the Telegraf container with it.
GROWOFF_MODULE_ID=${conf[MODULE_ID]}
GROWOFF_TELEGRAF_TOKEN=$telegraf_token
GROWOFF_CLOUD_INFLUX_URL=${conf[TELEMETRY_URL]}
GROWOFF_CLOUD_INFLUX_ORG=${conf[TELEMETRY_ORG]}
GROWOFF_CLOUD_INFLUX_BUCKET=${conf[TELEMETRY_BUCKET]}
GROWOFF_CLOUD_INFLUX_TOKEN=$(tr -d '\n' <"$config/secrets/influx-token")
EOF

echo "$changed changed"
