"""The bundle's size against a naive PySide6 hello-window bundle built the same way, now.

    python benchmarks/bench_bundle_size.py build_spec/_build/dist/clerk-app [--deb PKG.deb]

Builds the naive bundle in a temporary folder: a new venv with PySide6-Essentials and
PyInstaller at the versions and hashes of build_spec/requirements-build.lock, a five-line
hello window, `PyInstaller --onedir --noconfirm` with no spec, no excludes, no pruning (and
SOURCE_DATE_EPOCH/PYTHONHASHSEED as build.sh sets them). Prints both sizes and the ratio
(target: the app's bundle <= the naive one, <= 160 MB) and, with --deb, the package's size
(target <= 70 MB). Takes a few minutes (pip + PyInstaller).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "build_spec" / "requirements-build.lock"
NAIVE = {"pyside6-essentials", "shiboken6", "pyinstaller", "pyinstaller-hooks-contrib",
         "altgraph", "packaging", "setuptools"}
HELLO = """from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("Hallo")
label.show()
app.exec()
"""


def size_of(folder: Path) -> int:
    return sum(os.lstat(p).st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def locked_subset(names: set[str]) -> str:
    """The lock's entries (with their hashes) for `names`, Linux markers only."""
    blocks = re.split(r"\n(?=\S)", LOCK.read_text(encoding="utf-8"))
    keep = [b for b in blocks if b.split("==", 1)[0].strip().lower() in names]
    return "\n".join(keep) + "\n"


def build_naive(work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
    python = work / "venv" / "bin" / "python"
    (work / "requirements.txt").write_text(locked_subset(NAIVE), encoding="utf-8")
    subprocess.run([python, "-m", "pip", "install", "-q", "--require-hashes", "-r",
                    work / "requirements.txt"], check=True)
    (work / "hello.py").write_text(HELLO, encoding="utf-8")
    env = {**os.environ, "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "315532800"}
    subprocess.run([python, "-m", "PyInstaller", "--onedir", "--noconfirm", "--log-level",
                    "WARN", "--distpath", work / "dist", "--workpath", work / "build",
                    "--specpath", work, work / "hello.py"], check=True, env=env, cwd=work)
    return work / "dist" / "hello"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--deb", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clerk-naive-") as tmp:
        naive = size_of(build_naive(Path(tmp)))
    app = size_of(args.bundle)
    print(f"naive PySide6 hello-window bundle: {naive / 1e6:.1f} MB")
    print(f"clerk-app bundle ({args.bundle}): {app / 1e6:.1f} MB")
    print(f"ratio: {app / naive:.2f}x the naive bundle (target <= 1.0x, <= 160 MB)")
    if args.deb:
        print(f"package {args.deb.name}: {args.deb.stat().st_size / 1e6:.1f} MB compressed "
              "(target <= 70 MB)")


if __name__ == "__main__":
    main()
