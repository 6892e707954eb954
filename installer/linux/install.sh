#!/usr/bin/env bash
# Install Quayside from this unpacked tarball: for this user (default, into ~/.local) or for every user of the
# machine (sudo ./install.sh --system, into /opt/quayside and /usr/local). Run it again to upgrade;
# ./install.sh --uninstall [--system] removes the program (never the data: settings, database, backups, logs).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
APP_ID=io.github.quayside.Quayside
MODE=user
ACTION=install
for arg in "$@"; do
  case "$arg" in
    --system) MODE=system ;;
    --uninstall) ACTION=uninstall ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (use --system, --uninstall)" >&2; exit 2 ;;
  esac
done
if [ "$MODE" = system ]; then
  LIB=/opt/quayside; BIN=/usr/local/bin; SHARE=/usr/local/share
else
  LIB="${XDG_DATA_HOME:-$HOME/.local/share}/quayside/app"; BIN="$HOME/.local/bin"; SHARE="${XDG_DATA_HOME:-$HOME/.local/share}"
fi
files=("$SHARE/applications/$APP_ID.desktop" "$SHARE/metainfo/$APP_ID.metainfo.xml" "$BIN/quayside")
if [ "$ACTION" = uninstall ]; then
  rm -rf "$LIB"
  rm -f "${files[@]}" "$SHARE"/icons/hicolor/*/apps/"$APP_ID".{png,svg}
  echo "Quayside removed. Settings, databases, backups and logs are left where they are."
  exit 0
fi
mkdir -p "$LIB" "$BIN" "$SHARE/applications" "$SHARE/metainfo"
rm -rf "$LIB.new" && cp -a "$HERE/quayside" "$LIB.new" && rm -rf "$LIB" && mv "$LIB.new" "$LIB"
ln -sf "$LIB/quayside" "$BIN/quayside"
sed "s|^Exec=quayside|Exec=$LIB/quayside|; s|^TryExec=quayside|TryExec=$LIB/quayside|" \
  "$HERE/share/applications/$APP_ID.desktop" > "$SHARE/applications/$APP_ID.desktop"
cp "$HERE/share/metainfo/$APP_ID.metainfo.xml" "$SHARE/metainfo/"
cp -r "$HERE/share/icons" "$SHARE/"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$SHARE/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
echo "Quayside installed in $LIB; start it from the applications menu or with $BIN/quayside."
