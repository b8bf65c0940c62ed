#!/usr/bin/env bash
# Build the MSI from build_spec/windows/clerk-app.wxs with msitools' wixl (Debian), so that CI
# notices when the WiX source rots; a Linux bundle stands in for the Windows one (the MSI is
# not installable, its tables are what is checked).
#
#   bash build_spec/windows/wixl_check.sh BUNDLE OUT.msi [VERSION]
#
# wixl resolves File/@Source relative to the .wxs file, so everything is laid out in a
# temporary folder: the .wxs, config.toml, a link to the bundle and the generated fragment of
# the bundle's files (wixl-heat, as heat.exe does on Windows). Needs: wixl (Debian package wixl).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUNDLE="$(cd "$1" && pwd)"
OUT="$2"
VERSION="${3:-0.1.0}"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp "$HERE/clerk-app.wxs" "$WORK/"
cp "$HERE/../linux/config.toml" "$WORK/config.toml"
ln -s "$BUNDLE" "$WORK/bundle"
(cd "$WORK" && find bundle/ \( -type f -o -type l \) | LC_ALL=C sort \
    | wixl-heat -p bundle/ --component-group BundleFiles --var var.SourceDir \
        --directory-ref INSTALLDIR --win64 > bundle-files.wxs)
(cd "$WORK" && wixl -a x64 -D Win64=yes -D Version="$VERSION" -D SourceDir=bundle \
    -D ConfigFile=config.toml -o "$OUT" clerk-app.wxs bundle-files.wxs)
echo "== $OUT ($(du -h "$OUT" | cut -f1)) from $BUNDLE"
