"""Grab the main window to PNG, as a clerk would see it (for the README and for review).

    QT_QPA_PLATFORM=offscreen python -m tools.screenshot docs/screenshot-main.png
    python -m tools.screenshot out.png --query "sperr" --blocked --language en

Builds a small demo register in a temporary folder (never touches the real data folder),
types the search, opens a person and saves `window.grab()`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer

from clerk_app.config import Config
from clerk_app.models import PersonHit


def _wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _wait_until(check: Callable[[], bool], timeout_ms: int = 10_000) -> None:
    waited = 0
    while not check() and waited < timeout_ms:
        _wait(20)
        waited += 20


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--query", default=None,
                        help="what to type into the search (default: mueller, or with "
                        "--blocked the family name of a blocked person)")
    parser.add_argument("--row", type=int, default=None, help="hit to open (default: a "
                        "person with the most to show)")
    parser.add_argument("--blocked", action="store_true", help="open a person with a block")
    parser.add_argument("--no-person", action="store_true", help="only the hit list")
    parser.add_argument("--language", default="de", choices=("de", "en"))
    parser.add_argument("--residents", type=int, default=1500)
    parser.add_argument("--size", default="1280x800")
    args = parser.parse_args(argv)

    from clerk_app.demo.build import build_demo_register
    from clerk_app.store import opening
    from ui.i18n import set_language
    from ui.main_window import MainWindow
    from ui.start_window import application

    with tempfile.TemporaryDirectory() as tmp:
        cfg = dataclasses.replace(Config(), data_dir=tmp, mode="demo",
                                  demo_residents=args.residents, workstation="Schalter 3",
                                  language=args.language)
        with opening.open_register(cfg, create=True) as store:
            build_demo_register(store, residents=args.residents)
        query = args.query or (_blocked_family(cfg) if args.blocked else "mueller")
        set_language(cfg.language)
        application(cfg)
        window = MainWindow(cfg)
        width, height = (int(v) for v in args.size.split("x"))
        window.resize(width, height)
        window.show()
        window.start()
        _wait_until(lambda: window.db.is_running)
        window.search.setFocus()
        window.search.insert(query)
        window.search.textEdited.emit(window.search.text())
        _wait(150)
        _wait_until(lambda: not window.busy)
        hits = window.model.hits
        if not args.no_person and hits:
            row = args.row if args.row is not None else _interesting(window, hits, args.blocked)
            window.table.selectRow(row)
            window.search_panel.open_selected()
            _wait_until(lambda: window.person_view.record is not None)
        _wait(100)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(args.output))
        window.close()
    print(f"{args.output}: {'saved' if ok else 'FAILED'}")
    return 0 if ok else 1


def _blocked_family(cfg: Config) -> str:
    from clerk_app.blocks import blocked_family_names
    from clerk_app.store import opening

    with opening.open_register(cfg) as store:
        names = blocked_family_names(store, limit=1)
    return names[0] if names else "mueller"


def _interesting(window: object, hits: list[PersonHit], blocked: bool) -> int:
    """The hit whose record shows the most (or the first blocked one)."""
    if blocked:
        for row, hit in enumerate(hits):
            if hit.blocked:
                return row
        return 0
    from clerk_app.person_record import load_person
    from clerk_app.store import opening

    cfg = window.cfg  # type: ignore[attr-defined]
    best, best_score = 0, -1
    with opening.open_register(cfg) as store:
        for row, hit in enumerate(hits[:30]):
            r = load_person(store, hit.id)
            score = (len(r.residences) + len(r.household) + len(r.documents)
                     + 2 * bool(r.everyday_name) + len(r.former_names) + 3 * (not hit.blocked)
                     + 2 * any(d.valid_until and d.valid_until.year < 2026 for d in r.documents))
            if score > best_score:
                best, best_score = row, score
    return best


if __name__ == "__main__":
    sys.exit(main())
