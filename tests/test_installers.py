"""The installers, built and used for real (slow: CI runs them; a few minutes in all).

One bundle is built with build_spec/build.sh (locked inputs, SOURCE_DATE_EPOCH) and signed with
a throwaway release key; then:
- a second build of the same sources in another folder must give the same manifest and SBOM;
- two Debian packages of that bundle (revision 1 and 2: the same app repackaged, which is what
  an upgrade of the package exercises) go into an apt repository signed with a throwaway GPG
  key; apt refuses the repository under another key, installs revision 1 (doctor and the
  window offscreen from the installed copy, with the installed machine configuration), keeps
  IT's edited config.toml across the upgrade to revision 2, and removes the package;
- the WiX source builds an MSI with wixl against the Linux bundle (a stand-in: the tables are
  checked, not an installation).

For a local rerun, CLERK_TEST_BUILD_DIR=<a build.sh work folder> reuses that build instead of
the first one; CI always builds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD_SPEC = REPO / "build_spec"
sys.path.insert(0, str(BUILD_SPEC))

import bundle_manifest as bm  # noqa: E402
import make_deb  # noqa: E402
import sign  # noqa: E402
import verify  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux build machine only"),
    # Two bundle builds and an apt install: ~15 minutes.
    pytest.mark.timeout(1800),
]

PACKAGE_LIMIT = 70_000_000
SOURCES = Path("/etc/apt/sources.list.d/clerk-app-test.list")
KEYRINGS = Path("/etc/apt/keyrings")  # apt's unprivileged _apt user must read the keyring
CONFFILE = Path("/etc/xdg/clerk-app/config.toml")


def _commit_time() -> str:
    """SOURCE_DATE_EPOCH for both builds: the commit's time, read once (build.sh's default,
    pinned here so that a commit made while the tests run cannot split the two builds)."""
    proc = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%ct"],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else "315532800"


SOURCE_DATE_EPOCH = _commit_time()


def build(work: Path) -> Path:
    """build.sh into `work`; returns the bundle folder."""
    started = time.perf_counter()
    env = {**os.environ, "CLERK_BUILD_DIR": str(work), "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    proc = subprocess.run(["bash", str(BUILD_SPEC / "build.sh")], capture_output=True, text=True,
                          env=env, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(f"build.sh into {work}: {time.perf_counter() - started:.0f} s")
    return work / "dist" / "clerk-app"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bundle, release public key file): built once for the module, then signed."""
    reuse = os.environ.get("CLERK_TEST_BUILD_DIR")
    bundle = (Path(reuse) / "dist" / "clerk-app" if reuse
              else build(tmp_path_factory.mktemp("first-build")))
    private, public = sign.generate_key(tmp_path_factory.mktemp("release-key"))
    bm.sign_bundle(bundle, bm.load_private_key(private.read_bytes()))
    return bundle, public


def _manifest(bundle: Path) -> dict[str, str]:
    entries = bm.parse_manifest((bundle / bm.MANIFEST_NAME).read_text(encoding="utf-8"))
    return {e.path: e.digest for e in entries}


def test_two_builds_of_one_commit_give_the_same_manifest_and_sbom(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    first = built[0]
    second = build(tmp_path / "second-build")
    a, b = _manifest(first), _manifest(second)
    assert sorted(a) == sorted(b)
    differing = sorted(path for path in a if a[path] != b[path])
    assert differing == [], f"{len(differing)} files differ between the builds: {differing[:20]}"
    sbom_a, sbom_b = (json.loads((d.parent / "clerk-app.cdx.json").read_text(encoding="utf-8"))
                      for d in (first, second))
    assert sbom_a == sbom_b
    assert sbom_a["bomFormat"] == "CycloneDX"
    versions = {re.sub(r"[-_.]+", "-", c["name"]).lower(): c["version"]  # PEP 503 names
                for c in sbom_a["components"]}
    locked = (BUILD_SPEC / "requirements-build.lock").read_text(encoding="utf-8")
    for name in ("pyside6-essentials", "sqlcipher3", "cryptography", "keyring"):
        assert f"{name}=={versions[name]} " in locked, name


# --- Debian package and apt repository --------------------------------------------------------

def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (.ci/run installs them)")
    if os.geteuid() != 0:
        pytest.skip("installs a package with apt: needs root (CI runs as root)")


def _apt(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    proc = subprocess.run(["apt-get", "-q", "-o", "DPkg::Lock::Timeout=600", *args],
                          capture_output=True, text=True, env=env, timeout=900)
    if check:
        assert proc.returncode == 0, f"apt-get {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
    return proc


def _update_test_source() -> subprocess.CompletedProcess[str]:
    """apt-get update of the test repository only (the machine's other lists stay as they are)."""
    return _apt("update", "-o", f"Dir::Etc::sourcelist={SOURCES}", "-o",
                "Dir::Etc::sourceparts=-", "-o", "APT::Get::List-Cleanup=0", check=False)


def _gpg_key(home: Path) -> str:
    """A throwaway Ed25519 signing key; returns the ASCII-armoured secret key."""
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(["gpg", "--batch", "--quiet", "--passphrase", "", "--quick-gen-key",
                    "clerk-app test repository <test@invalid>", "ed25519", "sign", "never"],
                   check=True, env=env, capture_output=True)
    secret = subprocess.run(["gpg", "--batch", "--armor", "--export-secret-keys"], check=True,
                            env=env, capture_output=True, text=True).stdout
    subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False)
    return secret


def _publish(repo: Path, deb: Path, key: str) -> None:
    proc = subprocess.run(["bash", str(BUILD_SPEC / "apt_repo.sh"), str(repo), str(deb)],
                          capture_output=True, text=True,
                          env={**os.environ, "CLERK_APT_SIGNING_KEY": key})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _add_source(repo: Path, keyring_of: Path) -> None:
    """The test source: `repo`, trusted with the public key published beside `keyring_of`."""
    KEYRINGS.mkdir(parents=True, exist_ok=True)
    keyring = KEYRINGS / f"clerk-app-test-{keyring_of.name}.gpg"
    shutil.copyfile(keyring_of / "clerk-app-archive-keyring.gpg", keyring)
    keyring.chmod(0o644)
    SOURCES.write_text(f"deb [signed-by={keyring}] file:{repo} stable main\n", encoding="utf-8")


def _installed_version() -> str | None:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", make_deb.PACKAGE],
                          capture_output=True, text=True)
    status = proc.stdout.split()
    return status[-1] if proc.returncode == 0 and "installed" in status[:3] else None


@pytest.fixture
def test_source(tmp_path: Path) -> Iterator[Path]:
    """An apt source for a repository folder in tmp_path; removed, with the package, after."""
    if _installed_version() is not None:
        pytest.skip("clerk-app is installed on this machine: not touching it")
    # Readable by apt's unprivileged _apt user (pytest's own folders are private to root).
    shared = Path(tempfile.mkdtemp(prefix="clerk-apt-test-", dir="/var/tmp"))
    shared.chmod(0o755)
    repo = shared / "repo"
    try:
        yield repo
    finally:
        shutil.rmtree(shared, ignore_errors=True)
        if _installed_version() is not None or CONFFILE.exists():
            _apt("purge", "-y", make_deb.PACKAGE, check=False)
        SOURCES.unlink(missing_ok=True)
        for keyring in KEYRINGS.glob("clerk-app-test-*.gpg"):
            keyring.unlink()
        mangled = str(repo).strip("/").replace("/", "_")
        for stale in Path("/var/lib/apt/lists").glob(f"*{mangled}*"):
            stale.unlink()


def _clean_env(tmp: Path) -> dict[str, str]:
    """The workstation's environment: the installed machine file is read, nothing of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_APP_")}
    env.update(HOME=str(tmp / "home"), QT_QPA_PLATFORM="offscreen",
               CLERK_APP_USER_CONFIG=str(tmp / "no-user-config.toml"))
    return env


def _run_installed(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(["clerk-app", *args], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, f"clerk-app {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


def _unresolved_libraries(folder: Path) -> list[str]:
    """Libraries some ELF file in `folder` links that neither the bundle nor the system has."""
    missing = set()
    env = {**os.environ, "LD_LIBRARY_PATH": str(folder / "_internal")}
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.read_bytes()[:4] == b"\x7fELF":
            out = subprocess.run(["ldd", str(path)], capture_output=True, text=True,
                                 env=env).stdout
            missing |= {line.split()[0] for line in out.splitlines() if "not found" in line}
    return sorted(missing)


def test_debian_package_from_a_signed_repository_installs_upgrades_and_removes(
        built: tuple[Path, Path], tmp_path: Path, test_source: Path) -> None:
    _need("dpkg-deb", "apt-get", "apt-ftparchive", "gpg")
    bundle, public = built
    # Revision 1 as IT gets it (xz, make_deb's default: the size limit applies to it);
    # revision 2 only exercises the upgrade, so the fast zstd does.
    debs = [make_deb.build_package(bundle, tmp_path / "deb", revision=1),
            make_deb.build_package(bundle, tmp_path / "deb", revision=2, compression="zstd")]
    size = debs[0].stat().st_size
    assert size <= PACKAGE_LIMIT, f"{debs[0].name}: {size} bytes"
    repo = test_source
    key = _gpg_key(tmp_path / "gnupg")
    _publish(repo, debs[0], key)

    # Under another key, apt refuses the repository.
    other = repo.parent / "other-repo"
    _publish(other, debs[0], _gpg_key(tmp_path / "gnupg-other"))
    _add_source(repo, other)
    refused = _update_test_source()
    assert "NO_PUBKEY" in refused.stdout + refused.stderr or "not signed" in refused.stderr, \
        refused.stdout + refused.stderr

    _add_source(repo, repo)
    updated = _update_test_source()
    assert updated.returncode == 0 and "NO_PUBKEY" not in updated.stderr, updated.stderr
    _apt("install", "-y", f"{make_deb.PACKAGE}=0.1.0-1")
    assert _installed_version() == "0.1.0-1"

    installed = Path("/opt/clerk-app")
    assert shutil.which("clerk-app") == "/usr/bin/clerk-app"
    assert Path("/usr/share/applications/clerk-app.desktop").is_file()
    assert Path("/usr/share/icons/hicolor/scalable/apps/clerk-app.svg").is_file()
    assert _unresolved_libraries(installed) == []
    # The installed copy: signature, every file, and the bundled program's smoke test
    # (demo-data, search, doctor, the window offscreen) ...
    assert verify.main([str(installed), "--public-key", str(public)]) == 0
    # ... and through the launcher on PATH with the installed machine configuration.
    env = _clean_env(tmp_path)
    base = ["--data-dir", str(tmp_path / "data")]
    assert _run_installed(["--version"], env).startswith("clerk-app 0.1.0")
    _run_installed([*base, "demo-data", "--residents", "200"], env)
    doctor = _run_installed([*base, "doctor"], env)   # exit code 0: no check failed
    assert str(CONFFILE) in doctor, doctor
    window = verify._gui_check(Path("/usr/bin/clerk-app"), [*base, "gui"], env,
                               tmp_path / "data" / "logs", 5.0)
    assert "running after" in window

    # IT edits the machine file; the upgrade keeps it.
    edited = CONFFILE.read_text(encoding="utf-8") + 'workstation = "Schalter 7"\n'
    CONFFILE.write_text(edited, encoding="utf-8")
    _publish(repo, debs[1], key)
    assert _update_test_source().returncode == 0
    _apt("install", "-y", "-o", "Dpkg::Options::=--force-confdef", "-o",
         "Dpkg::Options::=--force-confold", make_deb.PACKAGE)
    assert _installed_version() == "0.1.0-2"
    assert CONFFILE.read_text(encoding="utf-8") == edited
    _run_installed([*base, "doctor"], env)
    assert verify.main([str(installed), "--public-key", str(public), "--no-run"]) == 0

    _apt("remove", "-y", make_deb.PACKAGE)
    assert _installed_version() is None
    assert not installed.exists() and shutil.which("clerk-app") is None
    assert CONFFILE.read_text(encoding="utf-8") == edited  # a conffile outlives `remove`
    _apt("purge", "-y", make_deb.PACKAGE)
    assert not CONFFILE.exists()


# --- Windows: the WiX source ------------------------------------------------------------------

def _msi_table(msi: Path, table: str) -> list[list[str]]:
    out = subprocess.run(["msiinfo", "export", str(msi), table], check=True, capture_output=True,
                         text=True).stdout
    return [line.split("\t") for line in out.splitlines()[3:]]


def test_wix_source_builds_an_msi_with_wixl(built: tuple[Path, Path], tmp_path: Path) -> None:
    if shutil.which("wixl") is None or shutil.which("msiinfo") is None:
        pytest.skip("needs wixl and msitools (.ci/run installs them)")
    bundle = built[0]
    msi = tmp_path / "clerk-app.msi"
    proc = subprocess.run(["bash", str(BUILD_SPEC / "windows" / "wixl_check.sh"), str(bundle),
                           str(msi), "0.1.0"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    properties = dict(row[:2] for row in _msi_table(msi, "Property"))
    assert properties["ALLUSERS"] == "1"  # per machine
    assert properties["ProductVersion"] == "0.1.0"
    directories = {row[0]: row[1:] for row in _msi_table(msi, "Directory")}
    assert directories["INSTALLDIR"] == ["ProgramFiles64Folder", "clerk-app"]
    assert directories["CONFIGDIR"] == ["CommonAppDataFolder", "clerk-app"]
    upgrade_codes = {row[0] for row in _msi_table(msi, "Upgrade")}
    assert upgrade_codes == {"{9FDB0BD2-B670-42CC-9A04-17E38A6FE382}"}
    files = _msi_table(msi, "File")
    # every file of the bundle, and IT's config.toml never among the MSI's files
    assert len(files) == len(_manifest(bundle)) + 3  # + manifest, .sig, config.example.toml
    assert not any(row[2].lower().endswith("config.toml") and "example" not in row[2].lower()
                   for row in files)
