#!/usr/bin/env bash
# Developer tool only: NOT used by the procdoc build (cargo) or by the tests.
#
# Regenerates the mock-up "screenshots" used by the procedures:
#   tools/screenshots/efiling-link.html -> procedures/images/efiling-link.png
#   tools/screenshots/pacer-login.html  -> procedures/images/pacer-login.png
#
# Requirements (Debian): apt-get install -y chromium fonts-liberation fonts-dejavu-core
# Optional: optipng (used to shrink the PNGs if present).
# The HTML files are self-contained (inline CSS/SVG, system fonts, no network).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="$(cd "$here/../.." && pwd)/procedures/images"
mkdir -p "$out"

W=1000
H=620

for name in efiling-link pacer-login; do
  profile="$(mktemp -d)"
  chromium --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update \
    --no-first-run --disable-sync --user-data-dir="$profile" \
    --hide-scrollbars --force-device-scale-factor=1 \
    --window-size="$W,$H" \
    --screenshot="$out/$name.png" "file://$here/$name.html"
  rm -rf "$profile"
  if command -v optipng >/dev/null 2>&1; then
    optipng -quiet -o2 -strip all "$out/$name.png"
  fi
done

ls -l "$out/efiling-link.png" "$out/pacer-login.png"
