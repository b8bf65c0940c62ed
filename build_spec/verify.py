"""Verify a built clerk-app bundle: signature, every file's hash, then a smoke test.

    python build_spec/verify.py DIST/clerk-app --public-key build_spec/release.pub
    python build_spec/verify.py DIST/clerk-app --public-key 3b6a27bc…  --no-run

1. `MANIFEST.sha256.sig` must be an Ed25519 signature of `MANIFEST.sha256` by the key given
   (`--public-key`: 64 hex digits, or a file holding them or a PEM public key; else
   `$CLERK_SIGNING_PUBLIC_KEY`).
2. Every file must match the manifest; a missing, changed or unlisted file fails, named.
3. Unless `--no-run`: the bundled program, with a temporary data folder, demo mode and no
   machine or user configuration (the real ones on this machine are not read or touched):
   `--version`; `--help` must list `gui` (the entry point from the bundled metadata);
   `demo-data --residents 200`; `search`; `doctor` (every check OK); and the window, started
   offscreen (QT_QPA_PLATFORM=offscreen), must still be running after `--gui-seconds` with no
   ERROR in its log.

Exit 0: all good. 1: signature or files do not match (the first problem is named). 2: usage
(no key, no bundle). 3: the program does not run as it should.
Needs Python 3.11+ with `cryptography` (the build venv has it), nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bundle_manifest import ManifestError, load_public_key, verify_bundle

PUBLIC_KEY_ENV = "CLERK_SIGNING_PUBLIC_KEY"
IS_WIN = sys.platform == "win32"


class SmokeError(Exception):
    pass


def _exe(bundle: Path, name: str) -> Path | None:
    path = bundle / (name + (".exe" if IS_WIN else ""))
    return path if path.is_file() else None


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_APP_")}
    env["CLERK_APP_MACHINE_CONFIG"] = str(tmp / "no-machine-config.toml")
    env["CLERK_APP_USER_CONFIG"] = str(tmp / "no-user-config.toml")
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _run(cli: Path, args: list[str], env: dict[str, str], expect: str | None = None,
         timeout: float = 300) -> tuple[str, float]:
    start = time.perf_counter()
    proc = subprocess.run([str(cli), *args], env=env, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=timeout)
    took = time.perf_counter() - start
    shown = " ".join(args)
    if proc.returncode != 0:
        raise SmokeError(f"`clerk-app {shown}` exited {proc.returncode}:\n"
                         f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    if expect is not None and expect not in proc.stdout:
        raise SmokeError(f"`clerk-app {shown}` did not print {expect!r}:\n{proc.stdout[-2000:]}")
    return proc.stdout, took


def smoke_test(bundle: Path, gui_seconds: float) -> list[str]:
    """Run the bundled program; returns the lines to report, raises SmokeError."""
    gui = _exe(bundle, "clerk-app")
    cli = _exe(bundle, "clerk-app-cli") or gui  # Windows/macOS: the console twin
    if cli is None or gui is None:
        raise SmokeError(f"no clerk-app executable in {bundle}")
    report: list[str] = []
    with tempfile.TemporaryDirectory(prefix="clerk-verify-") as tmp_name:
        tmp = Path(tmp_name)
        env = _env(tmp)
        base = ["--data-dir", str(tmp / "data"), "--set", 'mode="demo"']
        out, cold = _run(cli, ["--version"], env, expect="clerk-app ")
        warm = min(_run(cli, ["--version"], env)[1] for _ in range(3))
        report.append(f"--version: {out.strip()} (first start {cold:.2f} s, then {warm:.2f} s)")
        _run(cli, ["--help"], env, expect="gui")
        report.append("--help lists `gui`: the clerk_app.commands entry point works")
        out, took = _run(cli, [*base, "demo-data", "--residents", "200"], env,
                         expect="200 Personen")
        report.append(f"demo-data --residents 200: {took:.2f} s ({out.strip()[-80:]})")
        out, took = _run(cli, [*base, "search", "--json", "--limit", "5", "a"], env)
        hits = len(json.loads(out))
        report.append(f"search: {took:.2f} s, {hits} hits")
        out, took = _run(cli, [*base, "doctor"], env)  # exits non-zero on any failed check
        report.append(f"doctor: {took:.2f} s, {out.strip().splitlines()[-1]}")
        report.append(_gui_check(gui, [*base, "gui"], env, tmp / "data" / "logs", gui_seconds))
    return report


def _gui_check(gui: Path, args: list[str], env: dict[str, str], log_dir: Path,
               seconds: float) -> str:
    proc = subprocess.Popen([str(gui), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                            errors="replace")
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass  # still running: what we want
    else:
        output = proc.stdout.read() if proc.stdout else ""
        raise SmokeError(f"the window ended after less than {seconds:g} s "
                         f"(exit {proc.returncode}):\n{output[-3000:]}")
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()
    log = log_dir / "clerk-app.log"
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    bad = [line for line in text.splitlines()
           if " ERROR " in line or " CRITICAL " in line or "Traceback" in line]
    if bad:
        raise SmokeError("the window logged errors:\n" + "\n".join(bad[:10]))
    return f"window (offscreen): running after {seconds:g} s, no errors in {log.name}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a signed clerk-app bundle.")
    parser.add_argument("bundle", type=Path, help="the bundle folder (dist/clerk-app)")
    parser.add_argument("--public-key", default=os.environ.get(PUBLIC_KEY_ENV),
                        help=f"release public key: hex, or a file (else ${PUBLIC_KEY_ENV})")
    parser.add_argument("--no-run", action="store_true", help="check signature and files only")
    parser.add_argument("--gui-seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    if not args.public_key:
        print(f"FAILED: no public key (--public-key or ${PUBLIC_KEY_ENV})", file=sys.stderr)
        return 2
    if not args.bundle.is_dir():
        print(f"FAILED: {args.bundle} is not a folder", file=sys.stderr)
        return 2
    try:
        key = load_public_key(args.public_key)
    except (ManifestError, ValueError, OSError) as exc:
        print(f"FAILED: public key: {exc}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        count = verify_bundle(args.bundle, key)
    except (ManifestError, OSError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"OK signature and {count} files ({time.perf_counter() - start:.1f} s)")
    if args.no_run:
        return 0
    try:
        for line in smoke_test(args.bundle, args.gui_seconds):
            print(f"OK {line}")
    except (SmokeError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 3
    print("bundle verified")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
