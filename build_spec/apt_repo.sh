#!/usr/bin/env bash
# Publish clerk-app packages as a signed apt repository that workstations add with apt.
#
#   CLERK_APT_SIGNING_KEY="$(cat release-apt.asc)" bash build_spec/apt_repo.sh REPO clerk-app_*.deb
#
# Adds the packages to REPO/pool/main (earlier ones stay, so a workstation may pin a version),
# then writes REPO/dists/stable/main/binary-<arch>/Packages(.gz) and REPO/dists/stable/Release
# (apt-ftparchive) and signs Release with GPG twice, as apt expects: InRelease (clear-signed)
# and Release.gpg (detached). REPO/clerk-app-archive-keyring.gpg is the public key for the
# workstations' `signed-by=`:
#
#   deb [signed-by=/usr/share/keyrings/clerk-app-archive-keyring.gpg] https://REPO-URL stable main
#
# The private key comes from the environment only, never from a file in the repository:
# $CLERK_APT_SIGNING_KEY (ASCII-armoured secret key, e.g. a CI secret) and, if it is protected,
# $CLERK_APT_SIGNING_KEY_PASSPHRASE. It is imported into a temporary GnuPG home that is
# deleted afterwards; the machine's own keyrings are not touched.
# Needs: dpkg-dev's dpkg, apt-utils (apt-ftparchive), gnupg.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 REPO PACKAGE.deb..." >&2
    exit 2
fi
if [ -z "${CLERK_APT_SIGNING_KEY:-}" ]; then
    echo "FAILED: no signing key: set \$CLERK_APT_SIGNING_KEY (ASCII-armoured secret key)" >&2
    exit 2
fi
REPO="$1"; shift
ARCH="$(dpkg --print-architecture)"
DIST="dists/stable"

mkdir -p "$REPO/pool/main" "$REPO/$DIST/main/binary-$ARCH"
cp "$@" "$REPO/pool/main/"
cd "$REPO"
rm -f "$DIST/Release" "$DIST/InRelease" "$DIST/Release.gpg"
apt-ftparchive packages pool/main > "$DIST/main/binary-$ARCH/Packages"
gzip -9nkf "$DIST/main/binary-$ARCH/Packages"
apt-ftparchive \
    -o APT::FTPArchive::Release::Origin=clerk-app \
    -o APT::FTPArchive::Release::Label=clerk-app \
    -o APT::FTPArchive::Release::Suite=stable \
    -o APT::FTPArchive::Release::Codename=stable \
    -o APT::FTPArchive::Release::Architectures="$ARCH" \
    -o APT::FTPArchive::Release::Components=main \
    -o APT::FTPArchive::Release::Description="clerk-app workstation" \
    release "$DIST" > Release.new
mv Release.new "$DIST/Release"

GNUPGHOME="$(mktemp -d)"
export GNUPGHOME
trap 'gpgconf --kill all >/dev/null 2>&1 || true; rm -rf "$GNUPGHOME"' EXIT
printf '%s\n' "$CLERK_APT_SIGNING_KEY" | gpg --batch --quiet --import
sign=(gpg --batch --yes --quiet --pinentry-mode loopback --digest-algo SHA512)
if [ -n "${CLERK_APT_SIGNING_KEY_PASSPHRASE:-}" ]; then
    sign+=(--passphrase-fd 3)
    exec 3<<<"$CLERK_APT_SIGNING_KEY_PASSPHRASE"
fi
"${sign[@]}" --clearsign -o "$DIST/InRelease" "$DIST/Release"
if [ -n "${CLERK_APT_SIGNING_KEY_PASSPHRASE:-}" ]; then exec 3<<<"$CLERK_APT_SIGNING_KEY_PASSPHRASE"; fi
"${sign[@]}" --armor --detach-sign -o "$DIST/Release.gpg" "$DIST/Release"
gpg --batch --export > clerk-app-archive-keyring.gpg
gpg --batch --verify "$DIST/InRelease" 2>/dev/null
echo "== apt repository $PWD: $(ls pool/main | wc -l) package(s), Release signed by" \
     "$(gpg --batch --with-colons --list-keys | awk -F: '/^fpr/ {print $10; exit}')"
