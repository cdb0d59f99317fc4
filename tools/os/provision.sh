#!/usr/bin/env bash
# Applies a module's configuration to a Raspberry Pi OS image whose boot and root partitions are
# mounted as folders: hostname, Wi-Fi (NetworkManager on bookworm and later, wpa_supplicant on
# older releases), locale, timezone, keyboard, SSH with keys only, I2C, 1-Wire, and the base
# software (tools/base/install.sh run against the root partition, plus a first-boot unit that
# installs the Debian packages an unbooted image cannot: docker.io and awscli).
#
# Idempotent: a file is rewritten only when its content differs; a second run prints "0 changed".
# Refuses a tree that is not a Raspberry Pi OS layout.
#
# Usage: provision.sh [--boot DIR] --root DIR --config DIR
#   --boot is the FAT boot partition; without it, ROOT/boot/firmware (where bookworm mounts it). The
#   root partition's own /boot on bookworm holds only "moved to /boot/firmware" stubs: refused.
#   DIR is the tools/base configuration folder (module.conf, secrets/, release-keys/) plus:
#   DIR/os.conf                     KEY=VALUE: HOSTNAME, WIFI_SSID, WIFI_COUNTRY, LOCALE, TIMEZONE,
#                                   KEYBOARD, ADMIN_USER (all optional; see tools/os/README.md)
#   DIR/secrets/wifi-psk            the Wi-Fi passphrase (installed 0600)
#   DIR/authorized_keys             the SSH public keys allowed to log in as ADMIN_USER
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
base_dir=$(cd "$here/../base" && pwd)
# shellcheck source=tools/base/lib/install-lib.sh
. "$base_dir/lib/install-lib.sh"

boot=''
root=''
config=''
while [ $# -gt 0 ]; do
  case "$1" in
    --boot) boot=${2:-}; shift 2 ;;
    --root) root=${2:-}; shift 2 ;;
    --config) config=${2:-}; shift 2 ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (usage: provision.sh [--boot DIR] --root DIR --config DIR)" ;;
  esac
done
if [ -z "$root" ] || [ -z "$config" ]; then
  die "--root and --config are required"
fi
[ -n "$boot" ] || boot=$root/boot/firmware
[ -d "$boot" ] || die "boot partition '$boot' is not a directory"
[ -d "$root" ] || die "root partition '$root' is not a directory"
[ -f "$config/module.conf" ] || die "'$config/module.conf' not found"
[ -f "$config/os.conf" ] || die "'$config/os.conf' not found"
boot=$(cd "$boot" && pwd)
root=$(cd "$root" && pwd)
[ "$root" != / ] || die "refusing to provision the running system's root; pass a mounted image partition"

# What makes a Raspberry Pi OS image: the firmware's config.txt and cmdline.txt on the FAT boot
# partition, and a Debian root that carries /etc/rpi-issue.
for file in config.txt cmdline.txt; do
  [ -f "$boot/$file" ] || die "'$boot' is not a Raspberry Pi OS boot partition: $file is missing"
  # Bookworm's root partition keeps a /boot whose config.txt and cmdline.txt only say where the
  # real ones went; editing them would change nothing the firmware reads.
  if grep -qi 'moved to /boot/firmware' "$boot/$file"; then
    die "OS_BOOT_STUB: '$boot' holds only the \"moved to /boot/firmware\" stubs ($file): pass the boot partition itself, mounted at <root>/boot/firmware (the default without --boot) or on its own"
  fi
done
for file in etc/os-release etc/rpi-issue; do
  [ -f "$root/$file" ] || die "'$root' is not a Raspberry Pi OS root partition: /$file is missing"
done
codename=$(sed -n 's/^VERSION_CODENAME=//p' "$root/etc/os-release" | tr -d '"')
[ -n "$codename" ] || die "'$root/etc/os-release' names no VERSION_CODENAME"

declare -A conf=(
  [LOCALE]=en_GB.UTF-8
  [TIMEZONE]=Etc/UTC
  [KEYBOARD]=us
  [ADMIN_USER]=growoff
  [WIFI_COUNTRY]=GB
)
module_id=$(sed -n 's/^MODULE_ID=//p' "$config/module.conf")
[ -n "$module_id" ] || die "module.conf: MODULE_ID is required"
# Values land in quoted strings (wpa_supplicant, /etc/default files): no quotes or backslashes.
read_conf "$config/os.conf" '^[^"'"'"'\\]*$' 'quotes or backslashes'
conf[HOSTNAME]=${conf[HOSTNAME]:-growoff-$module_id}
[[ "${conf[HOSTNAME]}" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || die "os.conf: HOSTNAME must be a valid host name"
[[ "${conf[LOCALE]}" =~ ^[A-Za-z_]+\.UTF-8$ ]] || die "os.conf: LOCALE must look like en_GB.UTF-8"
[[ "${conf[TIMEZONE]}" =~ ^[A-Za-z_+-]+(/[A-Za-z0-9_+-]+)*$ ]] || die "os.conf: TIMEZONE must be a zoneinfo name like Europe/Berlin"
[[ "${conf[KEYBOARD]}" =~ ^[a-z]{2,3}$ ]] || die "os.conf: KEYBOARD must be an XKB layout like us or de"
[[ "${conf[ADMIN_USER]}" =~ ^[a-z][a-z0-9-]{0,30}$ ]] || die "os.conf: ADMIN_USER must be a lowercase user name"
[[ "${conf[WIFI_COUNTRY]}" =~ ^[A-Z]{2}$ ]] || die "os.conf: WIFI_COUNTRY must be a two-letter country code"
[ -s "$config/authorized_keys" ] || die "'$config/authorized_keys' is missing or empty: SSH allows keys only"
wifi=false
if [ -n "${conf[WIFI_SSID]:-}" ]; then
  [ -s "$config/secrets/wifi-psk" ] || die "WIFI_SSID is set but '$config/secrets/wifi-psk' is missing"
  wifi_psk=$(tr -d '\n' <"$config/secrets/wifi-psk")
  if [ ${#wifi_psk} -lt 8 ] || [ ${#wifi_psk} -gt 63 ]; then die "secrets/wifi-psk must be 8 to 63 characters"; fi
  wifi=true
fi

# put FILE MODE — stdin to FILE, written only when it changed; owned by root on the root partition
# (the FAT boot partition has no owners).
put() {
  local owner=''
  [[ "$1" == "$root"/* ]] && owner=0:0
  write_if_changed "$1" "$2" "$owner" "$1"
}

# edit FILE MODE COMMAND... — runs COMMAND with the file's current content on stdin and puts its output.
edit() {
  local target=$1 mode=$2
  shift 2
  local current=''
  [ -f "$target" ] && current=$(cat "$target")
  put "$target" "$mode" < <(if [ -n "$current" ]; then printf '%s\n' "$current"; fi | "$@")
}

# link PATH TARGET — a symlink, replaced only when it points elsewhere.
link() {
  link_if_changed "$1" "$2" "$1"
}

# ensure_line LINE — stdin with LINE present uncommented: a commented copy is uncommented in place,
# otherwise LINE is appended.
ensure_line() {
  awk -v want="$1" '
    { lines[NR] = $0 }
    $0 == want { found = NR }
    !commented && $0 ~ /^#[[:space:]]*/ { l = $0; sub(/^#[[:space:]]*/, "", l); if (l == want) commented = NR }
    END {
      if (!found && commented) lines[commented] = want
      for (i = 1; i <= NR; i++) print lines[i]
      if (!found && !commented) print want
    }'
}

# ensure_config_txt LINE — config.txt keeps its [section] filters: our lines go under [all].
ensure_config_txt() {
  awk -v want="$1" '
    { lines[NR] = $0 }
    /^\[/ { section = $0 }
    section == "" || section == "[all]" {
      if ($0 == want) found = 1
      l = $0
      if (!commented && sub(/^#[[:space:]]*/, "", l) && l == want) commented = NR
    }
    END {
      if (!found && commented) lines[commented] = want
      for (i = 1; i <= NR; i++) print lines[i]
      if (!found && !commented) { if (section != "" && section != "[all]") print "[all]"; print want }
    }'
}

# Hostname
put "$root/etc/hostname" 0644 <<<"${conf[HOSTNAME]}"
# shellcheck disable=SC2016 # an awk program, not shell
edit "$root/etc/hosts" 0644 awk -v name="${conf[HOSTNAME]}" '
  /^127\.0\.1\.1[[:space:]]/ { if (!done) print "127.0.1.1\t" name; done = 1; next }
  { print }
  END { if (!done) print "127.0.1.1\t" name }'

# Wi-Fi: NetworkManager keyfile on bookworm and later, wpa_supplicant on older releases.
case "$codename" in
  stretch | buster | bullseye) network=wpa_supplicant ;;
  *) network=networkmanager ;;
esac
if $wifi; then
  if [ "$network" = networkmanager ]; then
    put "$root/etc/NetworkManager/system-connections/growoff-wifi.nmconnection" 0600 <<EOF
[connection]
id=growoff-wifi
uuid=$(printf '%s' "$module_id/${conf[WIFI_SSID]}" | md5sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')
type=wifi
autoconnect=true

[wifi]
mode=infrastructure
ssid=${conf[WIFI_SSID]}

[wifi-security]
key-mgmt=wpa-psk
psk=$wifi_psk

[ipv4]
method=auto

[ipv6]
method=auto
EOF
    # The regulatory domain, which raspi-config sets on bookworm through the kernel command line.
    # shellcheck disable=SC2016 # an awk program, not shell
    edit "$boot/cmdline.txt" 0644 awk -v country="${conf[WIFI_COUNTRY]}" '
      NR == 1 { gsub(/[[:space:]]*cfg80211\.ieee80211_regdom=[A-Z]+/, ""); print $0 " cfg80211.ieee80211_regdom=" country; next }
      { print }'
  else
    put "$root/etc/wpa_supplicant/wpa_supplicant.conf" 0600 <<EOF
ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev
update_config=1
country=${conf[WIFI_COUNTRY]}

network={
	ssid="${conf[WIFI_SSID]}"
	psk="$wifi_psk"
	key_mgmt=WPA-PSK
}
EOF
  fi
fi

# The radio itself: current images ship it off until a country is set. NetworkManager keeps its
# switch in NetworkManager.state, and systemd-rfkill restores a soft block per device from
# /var/lib/systemd/rfkill at every boot; a unit clears the block of a device not listed there.
if $wifi; then
  if [ "$network" = networkmanager ]; then
    nm_state=$root/var/lib/NetworkManager/NetworkManager.state
    # shellcheck disable=SC2016 # an awk program, not shell
    edit "$nm_state" 0644 awk '
      /^\[/ { if (section == "[main]" && !done) { print "WirelessEnabled=true"; done = 1 } section = $0 }
      section == "[main]" && /^WirelessEnabled=/ { if (!done) print "WirelessEnabled=true"; done = 1; next }
      { print }
      END {
        if (!done) { if (section != "[main]") print "[main]"; print "WirelessEnabled=true" }
      }'
  fi
  for state in "$root"/var/lib/systemd/rfkill/*:wlan; do
    [ -f "$state" ] || continue
    put "$state" 0644 <<<0
  done
  put "$root/usr/local/lib/growoff/wifi-unblock.sh" 0755 <"$here/files/wifi-unblock.sh"
  put "$root/etc/systemd/system/growoff-wifi-unblock.service" 0644 <"$here/files/growoff-wifi-unblock.service"
  link "$root/etc/systemd/system/multi-user.target.wants/growoff-wifi-unblock.service" /etc/systemd/system/growoff-wifi-unblock.service
fi

# Locale, timezone, keyboard (what raspi-config writes; locale-gen runs at first boot).
edit "$root/etc/locale.gen" 0644 ensure_line "${conf[LOCALE]} UTF-8"
put "$root/etc/default/locale" 0644 <<EOF
LANG=${conf[LOCALE]}
LC_ALL=${conf[LOCALE]}
LANGUAGE=${conf[LOCALE]}
EOF
put "$root/etc/timezone" 0644 <<<"${conf[TIMEZONE]}"
link "$root/etc/localtime" "/usr/share/zoneinfo/${conf[TIMEZONE]}"
put "$root/etc/default/keyboard" 0644 <<EOF
XKBMODEL="pc105"
XKBLAYOUT="${conf[KEYBOARD]}"
XKBVARIANT=""
XKBOPTIONS=""
BACKSPACE="guess"
EOF

# SSH: enabled (the firmware's `ssh` flag file and the unit itself), keys only, for ADMIN_USER.
put "$boot/ssh" 0644 </dev/null
link "$root/etc/systemd/system/multi-user.target.wants/ssh.service" /lib/systemd/system/ssh.service
put "$root/etc/ssh/sshd_config.d/10-growoff.conf" 0644 <<EOF
# Written by tools/os/provision.sh: public keys only, no root login.
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/authorized_keys/%u
EOF
put "$root/etc/ssh/authorized_keys/${conf[ADMIN_USER]}" 0644 <"$config/authorized_keys"
# Raspberry Pi OS creates the first user from userconf.txt at first boot; `*` locks its password.
put "$boot/userconf.txt" 0600 <<<"${conf[ADMIN_USER]}:*"

# I2C and 1-Wire.
edit "$boot/config.txt" 0644 ensure_config_txt 'dtparam=i2c_arm=on'
edit "$boot/config.txt" 0644 ensure_config_txt 'dtoverlay=w1-gpio'
edit "$root/etc/modules" 0644 ensure_line 'i2c-dev'

# Base software: the installer's files in the image, run against the root partition, plus the
# first-boot unit for the Debian packages.
# The whole installer folder, as install.sh finds its library, units and files beside it.
for file in "$base_dir"/install.sh "$base_dir"/{lib,scripts,files,units}/*; do
  mode=0644
  # Executables; the library under lib/ is sourced, not run.
  [[ "$file" == */install.sh || "$file" == */scripts/* ]] && mode=0755
  put "$root/opt/growoff/base/${file#"$base_dir"/}" "$mode" <"$file"
done
put "$root/usr/local/lib/growoff/firstboot.sh" 0755 <"$here/files/firstboot.sh"
put "$root/etc/systemd/system/growoff-firstboot.service" 0644 <"$here/files/growoff-firstboot.service"
link "$root/etc/systemd/system/multi-user.target.wants/growoff-firstboot.service" /etc/systemd/system/growoff-firstboot.service

base_output=$("$base_dir/install.sh" --root "$root" --config "$config")
printf '%s\n' "$base_output" | sed -n 's|^changed |changed '"$root"'|p; s|^removed |removed '"$root"'|p'
changed=$((changed + $(printf '%s\n' "$base_output" | tail -n 1 | cut -d' ' -f1)))

echo "$changed changed"
