"""Start of the installed (frozen) program to a usable window, against the start from source.

    python benchmarks/bench_installed_start.py [--installed /usr/bin/clerk-app] [--runs 5]
        [--residents 2000]

Both are started the same way, as a fresh process with `gui` on one demo register (built
first from source), offscreen, and timed from launch to the log line "window ready: register
open" (written when the window shows and the encrypted register is open in its worker); the
log is polled every 5 ms. Runs alternate so that machine noise hits both alike. Target: the
frozen start at most 1.5x the start from source (issue 17). Installed copy: the Debian package
(`build_spec/make_deb.py`) or any bundle folder's `clerk-app`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MARKER = "window ready: register open"


def start_once(command: list[str], data: Path, env: dict[str, str]) -> float:
    log = data / "logs" / "clerk-app.log"
    offset = log.stat().st_size if log.exists() else 0
    began = time.perf_counter()
    child = subprocess.Popen([*command, "--data-dir", str(data), "--set", 'mode="demo"', "gui"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - began < 120:
            if log.exists():
                with log.open("rb") as fh:
                    fh.seek(offset)
                    if MARKER.encode() in fh.read():
                        return (time.perf_counter() - began) * 1000
            if child.poll() is not None:
                raise RuntimeError(f"{command[0]} ended with {child.returncode} before ready")
            time.sleep(0.005)
        raise RuntimeError(f"{command[0]}: not ready after 120 s")
    finally:
        child.terminate()
        child.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--installed", default=shutil.which("clerk-app") or "/usr/bin/clerk-app")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--residents", type=int, default=2000)
    args = parser.parse_args()
    source = [sys.executable, "-m", "clerk_app"]
    frozen = [args.installed]
    with tempfile.TemporaryDirectory(prefix="clerk-start-") as tmp:
        data = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_APP_")}
        env.update(QT_QPA_PLATFORM="offscreen",
                   CLERK_APP_MACHINE_CONFIG=str(Path(tmp) / "none.toml"),
                   CLERK_APP_USER_CONFIG=str(Path(tmp) / "none.toml"))
        subprocess.run([*source, "--data-dir", str(data), "--set", 'mode="demo"', "demo-data",
                        "--residents", str(args.residents)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        start_once(source, data, env), start_once(frozen, data, env)  # warm the page cache
        from_source, installed = [], []
        for _ in range(args.runs):
            from_source.append(start_once(source, data, env))
            installed.append(start_once(frozen, data, env))
    src_ms, frz_ms = statistics.median(from_source), statistics.median(installed)
    print(f"from source ({sys.executable}): {src_ms:.0f} ms")
    print(f"installed ({args.installed}): {frz_ms:.0f} ms")
    print(f"ratio: installed start {frz_ms / src_ms:.2f}x the start from source "
          f"(medians of {args.runs} runs, {args.residents} residents; target <= 1.5x)")


if __name__ == "__main__":
    main()
