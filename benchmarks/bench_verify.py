"""`clerk-app verify-document` on a Meldebescheinigung PDF, page rendering and QR decoding included.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_verify.py [--runs 20]

* In process, warm: `clerk_app.shown_document.check_file` (PDFium renders the page at 150 dpi,
  zxing-cpp reads the QR code, the seal is verified, the certified values compared with the
  text layer and the XMP metadata), median of `--runs`.
* The command as a user runs it: a fresh `clerk-app verify-document FILE --public-key …`
  process each time, wall clock and CPU time (user + system: on a shared machine the wall
  clock mostly measures the other processes), median of `--runs`; against a fresh
  `python -c pass` in the same run (what any Python command costs before it does anything).

Target: the command ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import sample_certificate

from clerk_app.documents import build_model
from clerk_app.shown_document import check_file
from ui.rendering import ensure_application, render_pdf


def wall(command: list[str], cpu: list[float] | None = None) -> float:
    """Wall clock of one run of `command` in ms; its CPU time (user + system) into `cpu`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    ensure_application()
    with sample_certificate() as (cfg, store, number, key):
        pdf = Path(cfg.data_dir) / "meldebescheinigung.pdf"
        pdf.write_bytes(render_pdf(build_model(store, cfg, number, seal_key=key)))
        assert check_file(pdf, key.public).valid
        in_process: list[float] = []
        for _ in range(args.runs):
            started = time.perf_counter()
            check_file(pdf, key.public)
            in_process.append((time.perf_counter() - started) * 1000)
        command = [sys.executable, "-m", "clerk_app", "--data-dir", cfg.data_dir,
                   "verify-document", str(pdf), "--public-key", key.public_hex]
        bare = [sys.executable, "-c", "pass"]
        wall(command)
        commands: list[float] = []
        bares: list[float] = []
        cpu: list[float] = []
        bare_cpu: list[float] = []
        for _ in range(args.runs):
            commands.append(wall(command, cpu))
            bares.append(wall(bare, bare_cpu))
    m_in, m_cmd, m_bare = (statistics.median(v) for v in (in_process, commands, bares))
    print(f"check_file in process (render 150 dpi, decode, verify, compare): median "
          f"{m_in:.1f} ms, max {max(in_process):.1f} ms")
    print(f"clerk-app verify-document as a new process: median {m_cmd:.0f} ms, "
          f"max {max(commands):.0f} ms (target <= 500 ms)")
    print(f"  its CPU time (user + system): median {statistics.median(cpu):.0f} ms "
          "(what the wall clock is on an idle machine)")
    print(f"bare python -c pass: median {m_bare:.0f} ms, CPU {statistics.median(bare_cpu):.0f} "
          f"ms; ratio {m_cmd / m_bare:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
