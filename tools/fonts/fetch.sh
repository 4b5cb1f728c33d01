#!/usr/bin/env bash
# Re-fetch the Atkinson Hyperlegible Next fonts of the default theme.
#
#   themes/default/fonts/*.ttf          TTF, embedded by the PDF renderer
#   themes/default/static/fonts/*.woff2 WOFF2, served with the web pages
#   OFL.txt in both folders             the font licence (SIL OFL 1.1)
#
# Needs: npm (the npm registry), woff2_compress (Debian: apt-get install -y woff2),
# sha256sum. Works in a temporary directory; writes only the files above.
# See tools/fonts/README.md.
set -euo pipefail

PKG="@expo-google-fonts/atkinson-hyperlegible-next"
VERSION="${FONT_PKG_VERSION:-0.4.1}"
# sha256 of the npm tarball of $PKG@0.4.1. If you change VERSION, set
# FONT_PKG_SHA256 to the new tarball's hash (or to "skip" to not check it).
DEFAULT_SHA256="9c98b93e3f7dd7d7819f9c439aac9fb5b5466781fa1eb002caeb52eb7cb15ce8"
SHA256="${FONT_PKG_SHA256:-$DEFAULT_SHA256}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TTF_DIR="$ROOT/themes/default/fonts"
WOFF2_DIR="$ROOT/themes/default/static/fonts"

for tool in npm woff2_compress sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch.sh: '$tool' not found" >&2
    [ "$tool" = woff2_compress ] && echo "  install it with: apt-get install -y woff2" >&2
    exit 1
  fi
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# 1. npm pack into the temp dir and extract.
(cd "$TMP" && npm pack --silent "$PKG@$VERSION" >/dev/null)
TGZ="$(ls "$TMP"/*.tgz)"
if [ "$SHA256" != skip ]; then
  echo "$SHA256  $TGZ" | sha256sum -c --quiet - || {
    echo "fetch.sh: tarball hash differs from the pinned one (FONT_PKG_SHA256)" >&2
    exit 1
  }
fi
mkdir "$TMP/x"
tar -xzf "$TGZ" -C "$TMP/x"
PKGDIR="$TMP/x/package"

# package path (without .ttf)                  -> our base name
STYLES="
400Regular/AtkinsonHyperlegibleNext_400Regular                 AtkinsonHyperlegibleNext-Regular
400Regular_Italic/AtkinsonHyperlegibleNext_400Regular_Italic   AtkinsonHyperlegibleNext-Italic
700Bold/AtkinsonHyperlegibleNext_700Bold                       AtkinsonHyperlegibleNext-Bold
700Bold_Italic/AtkinsonHyperlegibleNext_700Bold_Italic         AtkinsonHyperlegibleNext-BoldItalic
"

mkdir -p "$TTF_DIR" "$WOFF2_DIR" "$TMP/w"
while read -r src name; do
  [ -n "$src" ] || continue
  cp "$PKGDIR/$src.ttf" "$TTF_DIR/$name.ttf"
  # 3. woff2_compress writes NAME.woff2 beside its input: convert a copy in the temp dir.
  cp "$PKGDIR/$src.ttf" "$TMP/w/$name.ttf"
  woff2_compress "$TMP/w/$name.ttf" >"$TMP/w/log" 2>&1 || { cat "$TMP/w/log" >&2; exit 1; }
  cp "$TMP/w/$name.woff2" "$WOFF2_DIR/$name.woff2"
  echo "  $name: $(wc -c <"$TTF_DIR/$name.ttf") B ttf, $(wc -c <"$WOFF2_DIR/$name.woff2") B woff2"
done <<<"$STYLES"

# 2. Licence: the package's LICENSE_FONT is the OFL 1.1 with the font's copyright line.
cp "$PKGDIR/LICENSE_FONT" "$TTF_DIR/OFL.txt"
cp "$PKGDIR/LICENSE_FONT" "$WOFF2_DIR/OFL.txt"

echo "fetch.sh: $PKG@$VERSION -> themes/default/fonts, themes/default/static/fonts"
