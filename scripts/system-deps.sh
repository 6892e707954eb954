#!/usr/bin/env bash
# Install the system packages Quayside's GUI and tests need, once, on Debian/Ubuntu.
set -euo pipefail
need=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libpulse0 poppler-utils
      xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-cursor0
      libxcb-shape0 libxcb-randr0 libxcb-xkb1 fonts-dejavu-core
      cups cups-client cups-bsd printer-driver-cups-pdf
      openssh-server
      appstream desktop-file-utils binutils)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "Please install these system packages: ${missing[*]}" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing system packages: ${missing[*]}"
# openssh-server is there for the SFTP tests, which start their own sshd on loopback: the machine's own SSH
# service must not be started or enabled by this install (policy-rc.d forbids starting it, then it is disabled).
quiet_ssh=""
if [[ " ${missing[*]} " == *" openssh-server "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  quiet_ssh=1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ -n "$quiet_ssh" ]; then
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --quiet ssh.service ssh.socket 2>/dev/null || true
  fi
fi
