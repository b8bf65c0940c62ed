"""Intake of online applications against decrypting the same JWEs alone.

    python benchmarks/bench_intake.py [--submissions 1000]

Prepared, not timed: a central database (encrypted SQLite file) with the destination's keys
(RSA 4096) and `--submissions` submissions of the three kinds, each with metadata, data and one
small attachment, encrypted by the reference portal's code. Measured: `Intake.submit` for all
of them (decrypt the three JWEs, verify the SHA-512 hashes, check the schema, store the item
and its attachment, one transaction each); baseline, in the same run: `jwe.decrypt_compact`
of the same three JWEs per submission with the same library and keys. Target: ratio <= 2.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from joserfc import jwe

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.fit_protocol import JWE_ALGORITHMS
from sync.portal import Attachment, build_submission, encryption_key
from sync.server.intake import Intake
from sync.server.intake_keys import IntakeKeys, KeyFolder
from sync.server.storage import open_database
from tests.online_support import REQUESTS


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = open_database(f"sqlite:///{folder / 'central.db'}")
        keys = IntakeKeys(db, KeyFolder(folder / "keys"))
        keys.ensure()
        intake = Intake(db, keys)
        key = encryption_key(keys.public_jwks())
        kinds = sorted(REQUESTS)
        pdf = Attachment("nachweis.pdf", "application/pdf", b"%PDF-1.7\n" + b"0" * 20_000)
        submissions = [build_submission(kinds[n % 3], REQUESTS[kinds[n % 3]], key, [pdf])
                       for n in range(args.submissions)]
        private = keys.decryption_keys()

        start = time.perf_counter()
        for s in submissions:
            for token in (s.metadata, s.data, *(a.content for a in s.attachments)):
                jwe.decrypt_compact(token, private, algorithms=JWE_ALGORITHMS)
        baseline = time.perf_counter() - start

        start = time.perf_counter()
        for s in submissions:
            assert intake.submit(s, "bench").status == "received"
        measured = time.perf_counter() - start
        db.close()
    print(f"intake of {args.submissions} submissions: {measured:.2f} s; decrypting their "
          f"JWEs alone: {baseline:.2f} s; ratio {measured / baseline:.2f}x (target <= 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
