#!/usr/bin/env bash
# macOS build machine: sign clerk-app.app with the Developer ID, notarise it, staple the ticket,
# and wrap it in a signed installer package for MDM.
#
#   CLERK_CODESIGN_IDENTITY="Developer ID Application: Stadt Lörrach (TEAMID)" \
#   CLERK_INSTALLER_IDENTITY="Developer ID Installer: Stadt Lörrach (TEAMID)" \
#   CLERK_NOTARY_PROFILE=clerk-notary \
#       bash build_spec/macos/sign_and_notarize.sh build_spec/_build/dist VERSION
#
#   --dry-run as first argument prints every command instead of running it (CI checks the
#   script this way on Linux, where codesign and xcrun do not exist).
#
# Order matters for the release manifest: build.sh calls this script's `codesign` step through
# CLERK_OS_SIGN_HOOK (`sign_and_notarize.sh --sign-only DIST/clerk-app`) before it writes
# MANIFEST.sha256; the notarisation and the package follow after sign.py. The notary
# credentials are a keychain profile made once with
# `xcrun notarytool store-credentials clerk-notary --apple-id … --team-id …`, never a file here.
set -euo pipefail

DRY=0
if [ "${1:-}" = "--dry-run" ]; then DRY=1; shift; fi
run() {
    if [ "$DRY" = 1 ]; then printf '+ %q' "$1"; shift; printf ' %q' "$@"; echo; else "$@"; fi
}
: "${CLERK_CODESIGN_IDENTITY:?set CLERK_CODESIGN_IDENTITY (Developer ID Application: …)}"
ENTITLEMENTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/entitlements.plist"

codesign_bundle() {  # every Mach-O inside first, then the executables, then the .app
    local folder="$1"
    run find "$folder" -type f \( -name '*.so' -o -name '*.dylib' \) -exec \
        codesign --force --timestamp --options runtime --sign "$CLERK_CODESIGN_IDENTITY" {} +
    for exe in "$folder/clerk-app" "$folder/clerk-app-cli"; do
        run codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" \
            --sign "$CLERK_CODESIGN_IDENTITY" "$exe"
    done
}

if [ "${1:-}" = "--sign-only" ]; then
    codesign_bundle "$2"
    exit 0
fi

DIST="$1"
VERSION="$2"
APP="$DIST/clerk-app.app"
: "${CLERK_INSTALLER_IDENTITY:?set CLERK_INSTALLER_IDENTITY (Developer ID Installer: …)}"
: "${CLERK_NOTARY_PROFILE:?set CLERK_NOTARY_PROFILE (a notarytool keychain profile)}"

run codesign --force --deep --timestamp --options runtime --entitlements "$ENTITLEMENTS" \
    --sign "$CLERK_CODESIGN_IDENTITY" "$APP"
run codesign --verify --strict --deep --verbose=2 "$APP"
run ditto -c -k --keepParent "$APP" "$DIST/clerk-app.zip"
run xcrun notarytool submit "$DIST/clerk-app.zip" --keychain-profile "$CLERK_NOTARY_PROFILE" --wait
run xcrun stapler staple "$APP"
run spctl --assess --type execute --verbose "$APP"
run pkgbuild --component "$APP" --install-location /Applications \
    --identifier de.loerrach.buergerbuero.clerk-app --version "$VERSION" \
    --sign "$CLERK_INSTALLER_IDENTITY" --timestamp "$DIST/clerk-app-$VERSION.pkg"
run xcrun notarytool submit "$DIST/clerk-app-$VERSION.pkg" \
    --keychain-profile "$CLERK_NOTARY_PROFILE" --wait
run xcrun stapler staple "$DIST/clerk-app-$VERSION.pkg"
echo "== $DIST/clerk-app-$VERSION.pkg: signed, notarised, stapled (machine config:" \
     "/Library/Application Support/clerk-app/config.toml, IT's, not in the package)"
