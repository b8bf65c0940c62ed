"""Cold start to a usable main window, and its memory, against a bare PySide6 main window.

    python benchmarks/bench_startup.py [--residents 100000] [--runs 5]

Each start is a fresh process (interpreter start included), timed by the parent from launch
to the child's "ready" line. The app counts as usable when its window is shown, the register
(encrypted, `--residents` persons) is open in the worker and the search field has focus; the
bare window when it is shown. Resident memory (VmRSS) is read by the child at that moment.
Runs alternate between the two so that machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from common import demo_config, demo_register

REPO = Path(__file__).resolve().parents[1]

REPORT = """
def report():
    rss = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmRSS:"))
    print("ready", rss, flush=True)
"""

BARE = REPORT + textwrap.dedent("""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow
    app = QApplication([])
    window = QMainWindow()
    window.setCentralWidget(QLineEdit())
    window.resize(1280, 800)
    window.show()
    def check():
        if window.isVisible():
            report()
            app.quit()
    timer = QTimer(); timer.timeout.connect(check); timer.start(1)
    app.exec()
""")

APP = REPORT + textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from dataclasses import replace
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from clerk_app.config import Config
    from ui.start_window import application, run
    from ui.main_window import MainWindow
    cfg = replace(Config(), mode="demo", data_dir={data_dir!r}, workstation="bench")
    application(cfg)  # run() reuses it; the timer needs it to exist first
    def check():
        for w in QApplication.topLevelWidgets():
            if isinstance(w, MainWindow) and w.isVisible() and w.register_open \\
                    and w.search.hasFocus():
                report()
                w.close()
    timer = QTimer(); timer.timeout.connect(check); timer.start(1)
    run(cfg)
""")


def start(code: str) -> tuple[float, int]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env=env)
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("ready"):
            elapsed = time.perf_counter() - began
            rss_kb = int(line.split()[1])
            break
    else:
        raise RuntimeError("child ended without becoming ready")
    child.wait(timeout=60)
    return elapsed * 1000, rss_kb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    demo_register(args.residents).close()
    app_code = APP.format(repo=str(REPO), data_dir=demo_config(args.residents).data_dir)
    start(BARE), start(app_code)  # warm the page cache for both alike
    bare, app = [], []
    for _ in range(args.runs):
        bare.append(start(BARE))
        app.append(start(app_code))
    bare_ms = statistics.median(t for t, _ in bare)
    app_ms = statistics.median(t for t, _ in app)
    bare_mb = statistics.median(r for _, r in bare) / 1024
    app_mb = statistics.median(r for _, r in app) / 1024
    print(f"bare PySide6 window: {bare_ms:.0f} ms, {bare_mb:.0f} MB resident")
    print(f"clerk-app ({args.residents} residents, encrypted): {app_ms:.0f} ms, "
          f"{app_mb:.0f} MB resident")
    print(f"ratio: start {app_ms / bare_ms:.2f}x, memory {app_mb / bare_mb:.2f}x "
          f"(medians of {args.runs} runs)")


if __name__ == "__main__":
    main()
