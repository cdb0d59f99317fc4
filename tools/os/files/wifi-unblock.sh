#!/bin/sh
# Clears the soft block (rfkill) of every Wi-Fi radio, through sysfs so that it needs no rfkill
# package. Run at boot by growoff-wifi-unblock.service, before the network starts. The argument, for
# tests, is another rfkill class folder.
set -eu
for radio in "${1:-/sys/class/rfkill}"/rfkill*; do
  [ -f "$radio/type" ] || continue
  if [ "$(cat "$radio/type")" = wlan ] && [ "$(cat "$radio/soft")" != 0 ]; then
    echo 0 >"$radio/soft"
    echo "unblocked $(cat "$radio/name")"
  fi
done
