#!/usr/bin/env bash
# Build the clerk-app onedir bundle from a clean venv, then write its SHA-256 manifest and SBOM.
#
#   bash build_spec/build.sh                  # -> build_spec/_build/dist/clerk-app/
#   CLERK_BUILD_DIR=/tmp/cb PYTHON=python3.11 bash build_spec/build.sh
#
# Steps: copy the sources (only what the wheel needs, so stale build/ or egg-info folders in
# the work tree cannot leak in) -> new venv -> the locked build inputs
# (build_spec/requirements-build.lock, pip --require-hashes: every wheel checked against the
# SHA-256 in the lock) -> `pip install --no-deps <copy>` (not editable: the bundle takes
# clerk-app's dist-info and entry points from there) -> PyInstaller with
# build_spec/clerk-app.spec -> [Authenticode/codesign of the executables, if configured: see
# docs/deployment.md] -> MANIFEST.sha256 over every file -> the CycloneDX SBOM beside the
# bundle (dist/clerk-app.cdx.json) -> size and file count.
# Reproducible: SOURCE_DATE_EPOCH (default: the commit's time) and PYTHONHASHSEED=0, so two
# builds of one commit give the same manifest (tests/test_installers.py builds twice).
# Sign afterwards with build_spec/sign.py, check with build_spec/verify.py.
# Works in Git Bash on Windows too (the venv's Scripts/ folder is found).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
WORK="${CLERK_BUILD_DIR:-$HERE/_build}"
PYTHON="${PYTHON:-python3}"
START=$SECONDS
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH="$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 315532800)"
fi
export SOURCE_DATE_EPOCH PYTHONHASHSEED=0

echo "== clerk-app build: sources $ROOT, work folder $WORK, SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH"
rm -rf "$WORK/src" "$WORK/venv" "$WORK/sbom-venv" "$WORK/pyinstaller" "$WORK/dist"
mkdir -p "$WORK/src"

# 1. a clean copy of what pyproject.toml packages
for item in pyproject.toml README.md clerk_app ui sync resources; do
    if [ -e "$ROOT/$item" ]; then cp -R "$ROOT/$item" "$WORK/src/"; fi
done
find "$WORK/src" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +

# 2. a clean venv with the app and PyInstaller
"$PYTHON" -m venv "$WORK/venv"
venv_python() {
    if [ -x "$1/Scripts/python.exe" ]; then echo "$1/Scripts/python.exe"; else echo "$1/bin/python"; fi
}
VPY="$(venv_python "$WORK/venv")"
"$VPY" -m pip install --quiet --require-hashes -r "$HERE/requirements-build.lock"
# The app itself: its dependencies are all in the lock (--no-deps), and it is built with the
# locked setuptools (--no-build-isolation), so nothing unpinned enters.
"$VPY" -m pip install --quiet --no-deps --no-build-isolation "$WORK/src"
# setuptools leaves clerk_app.egg-info in the copy; PyInstaller must see only the installed
# dist-info (it runs from $WORK, not from the copy, for the same reason).
find "$WORK/src" -name '*.egg-info' -prune -exec rm -rf {} +
"$VPY" -c "import sys; from importlib.metadata import entry_points, version; \
eps = entry_points(group='clerk_app.commands'); \
print('clerk-app', version('clerk-app'), 'PyInstaller', version('pyinstaller'), \
'entry points:', ', '.join(e.name for e in eps)); sys.exit(0 if eps else 1)"
PIP_DONE=$SECONDS

# 3. PyInstaller (nothing lands in the work tree)
(cd "$WORK" && "$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --workpath "$WORK/pyinstaller" --distpath "$WORK/dist" "$HERE/clerk-app.spec")
BUNDLE="$WORK/dist/clerk-app"
PYI_DONE=$SECONDS

# 4. OS code signing of the executables would run here, before the manifest
#    (signtool/osslsigncode on Windows, codesign on macOS): see docs/deployment.md.
if [ -n "${CLERK_OS_SIGN_HOOK:-}" ]; then
    echo "== OS code signing: $CLERK_OS_SIGN_HOOK $BUNDLE"
    "$CLERK_OS_SIGN_HOOK" "$BUNDLE"
fi

# 5. the manifest over every file
"$VPY" "$HERE/bundle_manifest.py" write "$BUNDLE"

# 6. the software bill of materials (CycloneDX JSON) of the build venv, beside the bundle, by
#    cyclonedx-bom from its own locked venv (so that it does not list itself)
"$PYTHON" -m venv "$WORK/sbom-venv"
SPY="$(venv_python "$WORK/sbom-venv")"
"$SPY" -m pip install --quiet --require-hashes -r "$HERE/requirements-sbom.lock"
"$SPY" -m cyclonedx_py environment --output-reproducible --of JSON \
    --pyproject "$WORK/src/pyproject.toml" -o "$WORK/dist/clerk-app.cdx.json" "$VPY"
# --output-reproducible drops the serial number, not the time: take SOURCE_DATE_EPOCH's
"$VPY" - "$WORK/dist/clerk-app.cdx.json" <<'PY'
import datetime, json, os, sys
path = sys.argv[1]
with open(path, encoding="utf-8") as fh:
    bom = json.load(fh)
moment = datetime.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), datetime.UTC)
bom.setdefault("metadata", {})["timestamp"] = moment.isoformat()
with open(path, "w", encoding="utf-8", newline="\n") as fh:
    json.dump(bom, fh, indent=2, ensure_ascii=False)
    fh.write("\n")
PY

FILES=$(find "$BUNDLE" -type f | wc -l | tr -d ' ')
SIZE=$(du -sh "$BUNDLE" | cut -f1)
echo "== bundle: $BUNDLE (SBOM: $WORK/dist/clerk-app.cdx.json)"
echo "== size: $SIZE in $FILES files; largest:"
du -ah "$BUNDLE" | sort -rh | sed -n '2,9p'
echo "== time: $((SECONDS - START)) s in all (venv + pip $((PIP_DONE - START)) s," \
     "PyInstaller $((PYI_DONE - PIP_DONE)) s)"
echo "== next: python build_spec/sign.py $BUNDLE --key-file KEY;" \
     "python build_spec/verify.py $BUNDLE --public-key PUB"
