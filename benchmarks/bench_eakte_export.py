"""A day's hand-over to the e-Akte against zipping the same files.

    python benchmarks/bench_eakte_export.py [--cases 500] [--runs 3]

Prepared, not timed: an encrypted register with `--cases` finished online applications, each
with its issued document (an archived PDF of about 40 KB, incompressible like a real PDF's
streams). Measured: `xdomea.export_cases` (read the cases and their PDFs from the register,
build the 0401 XML, write the ZIP, record the export in one transaction). Baseline, in the same
run: the same files (read out beforehand) written into a ZIP with the same compression. Each
run exports into a fresh register copy's state (the export records are removed between runs).
Target: ratio <= 2.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clerk_app import inbox, xdomea
from clerk_app.documents import archive_pdf
from clerk_app.keys import new_key
from clerk_app.store.db import Actor, Store, open_store
from tests.factories import COUNTER_ROLES
from tests.online_support import REQUESTS

PARTIES = xdomea.Parties("Stadt Lörrach", "Bürgerbüro", "DMS")


def pdf() -> bytes:
    """A real one-page PDF carrying 40 KB of incompressible content (as scans and fonts are)."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("inhalt.bin", os.urandom(40_000))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build(store: Store, cases: int) -> None:
    kinds = sorted(REQUESTS)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for n in range(cases):
        sid, command_id = str(uuid.uuid4()), str(uuid.uuid4())
        kind = kinds[n % 3]
        inbox.store_items(store, [{"submission_id": sid, "kind": kind, "seq": n + 1,
                                   "received_at": now, "state": "new",
                                   "data": REQUESTS[kind]}])
        number = f"MB-BENCH-{n:06d}"
        with store.transaction():
            store.conn.execute(
                "INSERT INTO documents (id, number, type, command_id, issued_at, clerk, "
                "workstation, content) VALUES (?, ?, 'meldebescheinigung_einfach', ?, ?, ?, "
                "'bench', ?)", (str(uuid.uuid4()), number, command_id, now, "bench",
                                   '{"title": "Meldebescheinigung", "fields": []}'))
        archive_pdf(store, number, pdf())
        inbox.claim(store, sid)
        inbox.record_outcome(store, sid, "done", command_id=command_id)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = open_store(folder / "register.db", new_key(),
                           Actor("bench", "bench", COUNTER_ROLES), create=True)
        build(store, args.cases)
        files = [(f"{uuid.uuid4()}_{f.name}", f.content)
                 for case in xdomea._cases(store) for f in xdomea._files(store, case)]
        exports, zips = [], []
        for run in range(args.runs):
            start = time.perf_counter()
            with zipfile.ZipFile(folder / f"baseline-{run}.zip", "w",
                                 zipfile.ZIP_DEFLATED) as archive:
                for name, content in files:
                    archive.writestr(name, content)
            zips.append(time.perf_counter() - start)
            start = time.perf_counter()
            path = xdomea.export_cases(store, folder / f"export-{run}", PARTIES,
                                       datetime.now(UTC))
            exports.append(time.perf_counter() - start)
            assert path is not None
            with store.transaction():
                store.conn.execute("DELETE FROM eakte_exports")
        store.close()
    export, baseline = statistics.median(exports), statistics.median(zips)
    print(f"export of {args.cases} cases ({len(files)} files): median {export:.2f} s; zipping "
          f"the same files: {baseline:.2f} s; ratio {export / baseline:.2f}x (target <= 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
