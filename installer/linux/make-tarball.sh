#!/usr/bin/env bash
# Package the PyInstaller bundle (dist/quayside) as dist/quayside-VERSION-linux-ARCH.tar.gz, with its desktop entry,
# icon, AppStream metainfo and an install script. Run by `make bundle` after PyInstaller.
# DIST (default dist) is where the bundle is and the tarball goes; BUILD (default build) the scratch folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIST="${DIST:-dist}"
BUILD="${BUILD:-build}"
APP_ID=io.github.quayside.Quayside
VERSION=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
ARCH=$(uname -m)
NAME="quayside-${VERSION}-linux-${ARCH}"
STAGE="${BUILD}/tarball/${NAME}"
[ -x "${DIST}/quayside/quayside" ] || { echo "${DIST}/quayside/quayside is missing: run PyInstaller first (make bundle)" >&2; exit 1; }
rm -rf "${BUILD}/tarball"
mkdir -p "${STAGE}/share/applications" "${STAGE}/share/metainfo"
cp -a "${DIST}/quayside" "${STAGE}/quayside"
cp "installer/linux/${APP_ID}.desktop" "${STAGE}/share/applications/"
cp "installer/linux/${APP_ID}.metainfo.xml" "${STAGE}/share/metainfo/"
for size in 16 24 32 48 64 128 256; do
  mkdir -p "${STAGE}/share/icons/hicolor/${size}x${size}/apps"
  cp "resources/icons/quayside-${size}.png" "${STAGE}/share/icons/hicolor/${size}x${size}/apps/${APP_ID}.png"
done
mkdir -p "${STAGE}/share/icons/hicolor/scalable/apps"
cp resources/icons/quayside.svg "${STAGE}/share/icons/hicolor/scalable/apps/${APP_ID}.svg"
install -m 755 installer/linux/install.sh "${STAGE}/install.sh"
tar -C "${BUILD}/tarball" -czf "${DIST}/${NAME}.tar.gz" "${NAME}"
echo "${DIST}/${NAME}.tar.gz"
