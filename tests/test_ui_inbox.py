"""The Posteingang screen walked by keyboard on a real register and window: the list, each
item opened (logged), claimed, done through the prefilled service (paid online, the sealed PDF
for the portal mailbox), the letter with the confirmation code; the letters (DIN 5008) through
the print service to a printer; looked at as PNG."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from clerk_app import inbox
from clerk_app.config import Config
from tests.factories import add_person
from tests.online_support import REQUESTS
from tests.ui_support import (
    Keys,
    Register,
    module_register,
    rows,
    save_shot,
    unnamed_controls,
)
from ui.inbox_view import InboxDialog
from ui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("german")
IDS = {"meldebescheinigung": "00000000-0000-4000-8000-000000000001",
       "adressaenderung": "00000000-0000-4000-8000-000000000002",
       "personenstandsurkunde": "00000000-0000-4000-8000-000000000003"}
SECOND_MOVE = "00000000-0000-4000-8000-000000000004"  # another change of address


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Register:
    with module_register(tmp_path_factory, 50) as (data_dir, store):
        people = {"lukasz": add_person(store, "Wróbel", "Łukasz", "1991-03-04",
                                       street="Palmstraße", number="3")}
        inbox.store_items(store, [
            {"submission_id": sid, "kind": kind, "seq": n + 1, "state": "new",
             "received_at": f"2026-12-03T{8 + n:02d}:15:00+00:00", "data": REQUESTS[kind],
             "attachments": [{"attachment_id": "anlage-1", "filename": "nachweis.pdf"}]}
            for n, (kind, sid) in enumerate([*IDS.items(),
                                             ("adressaenderung", SECOND_MOVE)])])
    return data_dir, people


def open_inbox(qtbot: QtBot, window: MainWindow, keys: Keys) -> InboxDialog:
    keys.press(Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier |
               Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.findChild(InboxDialog) is not None, timeout=3000)
    dialog = window.findChild(InboxDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.opened is not None, timeout=5000)
    qtbot.waitUntil(dialog.table.hasFocus, timeout=3000)
    return dialog


def test_inbox_by_keyboard(qtbot: QtBot, window: MainWindow, cfg: Config,
                           people: dict[str, str], tmp_path: Path) -> None:
    opened: list[Path] = []
    window.printing.opener = opened.append
    keys = Keys(qtbot)
    dialog = open_inbox(qtbot, window, keys)
    assert dialog.table.rowCount() == 4
    assert dialog.opened is not None and dialog.opened.line.kind == "meldebescheinigung"
    qtbot.waitUntil(lambda: dialog.matches.count() == 1, timeout=3000)
    assert dialog.matches.item(0).data(Qt.ItemDataRole.UserRole) == people["lukasz"]
    assert "Zahlungsreferenz" in dialog.detail.toPlainText()
    assert not dialog.done_button.isEnabled()   # not claimed yet
    assert unnamed_controls(dialog) == []
    save_shot(dialog, "screenshot-inbox.png")

    keys.press(Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)   # Übernehmen
    qtbot.waitUntil(lambda: dialog.done_button.isEnabled(), timeout=5000)
    keys.press(Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)   # Erledigen
    qtbot.waitUntil(lambda: "Erledigt" in dialog.message.text(), timeout=20_000)
    journal = rows(cfg, "SELECT method, payment_reference FROM cash_journal")
    assert {"method": "online", "payment_reference": "PAY-2026-000123"} in journal
    [outcome] = rows(cfg, "SELECT body FROM inbox_actions WHERE action = 'outcome' AND "
                          "submission_id = ?", IDS["meldebescheinigung"])
    body = json.loads(outcome["body"])
    assert body["state"] == "done" and body["document_name"].endswith(".pdf")  # electronic
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=5000)  # open ones only
    viewed = rows(cfg, "SELECT detail FROM audit_log WHERE purpose = ?", inbox.PURPOSE)
    assert any(IDS["meldebescheinigung"] in (r["detail"] or "") for r in viewed)

    # The change of address: claimed, accepted pending identification; the letter opens.
    qtbot.waitUntil(lambda: dialog.opened is not None and
                    dialog.opened.line.kind == "adressaenderung", timeout=5000)
    keys.press(Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: dialog.wait_button.isEnabled(), timeout=5000)
    keys.press(Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: bool(opened), timeout=20_000)
    assert opened[0].name.startswith("bestaetigungscode-") and opened[0].stat().st_size > 1000
    [waiting] = rows(cfg, "SELECT state FROM inbox_items WHERE submission_id = ?",
                     IDS["adressaenderung"])
    assert waiting["state"] == "waiting"
    dialog.reject_dialog()


def test_letters_go_through_the_print_service_to_the_printer(
        qtbot: QtBot, window: MainWindow, cfg: Config, tmp_path: Path) -> None:
    """What goes by post, each one checked job on the remembered printer (a PDF printer
    here): for the civil-status request the cover letter (the request went to the registry
    office) and the receipt; for the change of address the letter with the confirmation code.
    Nothing is left as a file in the print folder; the outcome is said in the dialog."""
    from tests.test_ui_printing import pdf_printer
    from ui.printing import private_folder

    folder = private_folder(cfg)
    before = set(folder.iterdir()) if folder.exists() else set()
    opened: list[Path] = []
    window.printing.opener = opened.append
    factory = pdf_printer(tmp_path)
    window.printing.printer_factory = factory
    keys = Keys(qtbot)
    dialog = open_inbox(qtbot, window, keys)
    walks = ((IDS["personenstandsurkunde"], Qt.Key.Key_E, "anschreiben-", ["quittung"],
              ["Palmstraße 3", "79539 Lörrach", "an das Standesamt weitergeleitet",
               "Anlagen: Quittung"]),
             (SECOND_MOVE, Qt.Key.Key_W, "bestaetigungscode-", [],
              ["Palmstraße 7", "79539 Lörrach", "Ihr Bestätigungscode"]))
    for sid, key, letter_job, enclosed, printed in walks:
        row = next(n for n, line in enumerate(dialog.lines) if line.submission_id == sid)
        dialog.table.setCurrentCell(row, 0)
        qtbot.waitUntil(lambda sid=sid: dialog.opened is not None and
                        dialog.opened.line.submission_id == sid, timeout=5000)
        keys.press(Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)   # Übernehmen
        button = dialog.done_button if key == Qt.Key.Key_E else dialog.wait_button
        qtbot.waitUntil(button.isEnabled, timeout=5000)
        start = len(factory.made)
        keys.press(key, Qt.KeyboardModifier.AltModifier)
        jobs = 1 + len(enclosed)
        qtbot.waitUntil(lambda n=start + jobs: len(factory.made) == n, timeout=30_000)
        qtbot.waitUntil(lambda: "gesendet" in dialog.message.text(), timeout=10_000)
        made = factory.made[start:]
        [letter] = [p for p in made if p.docName().startswith(letter_job)]
        types = [r["type"] for p in made if p is not letter for r in
                 rows(cfg, "SELECT type FROM documents WHERE number = ?", p.docName())]
        assert types == enclosed  # the receipt, not the request for the registry office
        text = subprocess.run(["pdftotext", "-layout", letter.outputFileName(), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert all(line in text for line in printed), text
    assert opened == []   # printed, not opened
    assert (set(folder.iterdir()) if folder.exists() else set()) == before  # no file left
    dialog.reject_dialog()
