#!/usr/bin/env bash
# Render every screen of the app to PNG under a real X server (Xvfb), into ./screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-screenshots}
mkdir -p "$out"
xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb .venv/bin/python -m desktop.screenshots --out "$out"
echo "Screenshots written to $out/"
