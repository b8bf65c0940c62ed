"""Drafts in the UI: typed work survives a crash (a killed process) and a closed window, is
restored with its command id when the dialog opens again, and is deleted when the clerk throws
it away. Drafts never reach any file but the encrypted register."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from clerk_app.clerks import DEMO_CLERK
from clerk_app.config import Config
from clerk_app.draft_store import load_drafts, save_draft
from clerk_app.store import opening
from tests.factories import make_cfg
from tests.ui_support import open_window
from ui.certificate_dialogs import MeldebescheinigungDialog
from ui.draft_keeper import AUTOSAVE_MS, drafts_status
from ui.i18n import set_language
from ui.main_window import MainWindow
from ui.registration.actions import RegistrationActions
from ui.registration.anmeldung import AnmeldungDialog
from ui.registration.dialog import RegistrationDialog

RESIDENTS = 300
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("german")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clerk_app.demo.build import build_demo_register

    folder = tmp_path_factory.mktemp("drafts_register")
    with opening.open_register(make_cfg(folder, demo_residents=RESIDENTS), create=True) as store:
        build_demo_register(store, residents=RESIDENTS)
    return folder


@pytest.fixture
def cfg(data_dir: Path) -> Iterator[Config]:
    cfg = make_cfg(data_dir, demo_residents=RESIDENTS)
    yield cfg
    with opening.open_register(cfg) as store:   # every test starts without drafts
        store.conn.execute("DELETE FROM drafts")


def close_window(w: MainWindow) -> None:
    """Throw an open registration dialog away without asking (its draft is kept), close."""
    actions = w.findChild(RegistrationActions)
    if actions is not None and actions.dialog is not None:
        actions.dialog.confirm_discard = lambda: True
        actions.dialog.reject()
    w.close()


@pytest.fixture
def window(qtbot: QtBot, cfg: Config) -> Iterator[MainWindow]:
    w = open_window(qtbot, cfg)
    yield w
    close_window(w)


def open_anmeldung(qtbot: QtBot, window: MainWindow) -> AnmeldungDialog:
    qtbot.keyClick(window.search, Qt.Key.Key_F2)
    actions = window.findChild(RegistrationActions)
    assert actions is not None and isinstance(actions.dialog, AnmeldungDialog)
    dialog = actions.dialog
    qtbot.waitExposed(dialog)
    assert dialog.drafts is not None
    qtbot.waitUntil(lambda: not dialog.drafts.looking, timeout=5000)   # type: ignore[union-attr]
    return dialog


def drafts_of(cfg: Config) -> list[Any]:
    with opening.open_register(cfg) as store:
        return load_drafts(store, DEMO_CLERK, cfg.workstation)


def persons_named(cfg: Config, family: str) -> int:
    with opening.open_register(cfg) as store:
        return int(store.conn.execute("SELECT count(*) FROM persons WHERE family_name = ?",
                                      (family,)).fetchone()[0])


def wait_saved(qtbot: QtBot, dialog: RegistrationDialog) -> None:
    keeper = dialog.drafts
    assert keeper is not None
    with qtbot.waitSignal(keeper.saved, timeout=AUTOSAVE_MS + 5000):
        pass


# The crash: a child process runs the window, the clerk types an Anmeldung, the autosave
# runs, and the process is killed (no close event, nothing flushed on the way out).
CHILD = textwrap.dedent("""
    import dataclasses, sys
    from pathlib import Path
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from clerk_app.config import Config
    from ui.main_window import MainWindow
    from ui.registration.actions import RegistrationActions

    app = QApplication([])
    cfg = dataclasses.replace(Config(), data_dir=sys.argv[1], mode="demo", demo_residents=300,
                              workstation="Schalter 3")
    window = MainWindow(cfg)
    window.show()
    window.start()
    while not window.register_open:
        QTest.qWait(20)
    QTest.keyClick(window.search, Qt.Key.Key_F2)
    dialog = window.findChild(RegistrationActions).dialog
    while dialog.drafts.looking:
        QTest.qWait(20)
    entry = dialog.entries[0]
    entry.edits["family_name"].setFocus()
    QTest.keyClicks(entry.edits["family_name"], sys.argv[2])
    for key, text in (("first_names", "Otto"), ("birth_date", "05.05.1955"),
                      ("birth_place", "Basel"), ("birth_country", "CHE"),
                      ("nationalities", "CHE")):
        entry.edits[key].setText(text)
    entry.choice("sex").set_value("m")
    entry.choice("religion").set_value("rk")
    entry.choice("marital_status").set_value("LD")
    dialog.address.street.setText("Basler")
    dialog.address.number.setText("12")
    dialog.previous.address.setText("Spalenberg 5, 4051 Basel")
    dialog.previous.country.setText("CHE")
    dialog.landlord.presented.setChecked(True)
    dialog.landlord.landlord.setText("Wohnbau Loerrach GmbH")
    dialog.landlord.landlord_address.setText("Am Alten Markt 1, 79539 Loerrach")
    saved = []
    dialog.drafts.saved.connect(lambda: saved.append(True))
    while not saved:
        QTest.qWait(20)
    print("SAVED", dialog.command_id, flush=True)
    while True:
        QTest.qWait(1000)
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_typed_anmeldung_survives_a_crash_and_registers_once(qtbot: QtBot, cfg: Config,
                                                             tmp_path: Path) -> None:
    family = "Absturzmeier"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen([sys.executable, "-c", CHILD, cfg.data_dir, family], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()   # blocks until the autosave ran (or the child died)
        assert line.startswith("SAVED "), (line, child.stderr.read() if child.poll() else "")
        command_id = line.split()[1]
    finally:
        child.send_signal(signal.SIGKILL)   # the crash: no close event, no flush
        child.wait(10)
    (draft,) = drafts_of(cfg)
    assert draft.command_id == command_id and draft.kind == "anmeldung"
    assert persons_named(cfg, family) == 0

    # Personal data only in the encrypted register: no file holds the typed name.
    for path in [*Path(cfg.data_dir).rglob("*"), *tmp_path.rglob("*")]:
        if path.is_file():
            assert family.encode() not in path.read_bytes(), path

    window = open_window(qtbot, cfg)
    try:
        qtbot.waitUntil(lambda: window.pending_drafts == 1, timeout=5000)
        assert window.statusBar().currentMessage() == "1 Entwurf gespeichert – F2 setzt ihn fort"
        dialog = open_anmeldung(qtbot, window)
        entry = dialog.entries[0]
        assert entry.text("family_name") == family
        assert entry.text("first_names") == "Otto"
        assert entry.choice("religion").value() == "rk"
        assert dialog.landlord.presented.isChecked()
        assert dialog.command_id == command_id, "the draft's command id is reused"
        assert dialog.draft_line.isVisible()
        assert dialog.draft_label.text().startswith("Entwurf vom ")
        assert dialog.draft_label.text().endswith(" wiederhergestellt")
        qtbot.waitUntil(lambda: dialog.address.street.street is not None, timeout=5000)

        qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: dialog.is_done or bool(dialog.form.errors())
                        or bool(dialog.banner.message), timeout=10_000)
        assert dialog.service_result is not None, (dialog.form.errors(), dialog.banner.message)
        assert dialog.service_result.command_id == command_id
        assert persons_named(cfg, family) == 1
        assert drafts_of(cfg) == [], "a completed service leaves no draft"
        # A second submit with the same command id registers nothing more.
        dialog._done = False
        dialog.submit()
        qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
        assert persons_named(cfg, family) == 1
    finally:
        close_window(window)


def test_closed_window_keeps_the_draft_and_reopening_restores_it(qtbot: QtBot,
                                                                 cfg: Config) -> None:
    window = open_window(qtbot, cfg)
    dialog = open_anmeldung(qtbot, window)
    assert not dialog.draft_line.isVisible(), "nothing to restore yet"
    first_id = dialog.command_id
    dialog.add_person(focus=True)
    second = dialog.entries[1].edits["family_name"]
    assert isinstance(second, QLineEdit)
    qtbot.keyClicks(second, "Fensterzu")
    dialog.entries[0].edits["first_names"].setText("Erna")  # type: ignore[attr-defined]
    window.close()   # at once, before the autosave's pause: the close saves it
    (draft,) = drafts_of(cfg)
    assert draft.command_id == first_id and draft.data["persons"] == 2

    window = open_window(qtbot, cfg)
    try:
        dialog = open_anmeldung(qtbot, window)
        assert len(dialog.entries) == 2
        assert dialog.entries[1].text("family_name") == "Fensterzu"
        assert dialog.entries[0].text("first_names") == "Erna"
        assert dialog.command_id == first_id
        assert dialog.has_unsaved_input()
    finally:
        close_window(window)   # Esc with "Verwerfen": the draft goes
    assert drafts_of(cfg) == []


def test_escape_with_discard_deletes_the_draft(qtbot: QtBot, window: MainWindow,
                                               cfg: Config) -> None:
    dialog = open_anmeldung(qtbot, window)
    family = dialog.entries[0].edits["family_name"]
    qtbot.keyClicks(family, "Verwerfer")
    wait_saved(qtbot, dialog)
    assert len(drafts_of(cfg)) == 1
    dialog.confirm_discard = lambda: False     # "Weiter bearbeiten": kept
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible() and len(drafts_of(cfg)) == 1
    dialog.confirm_discard = lambda: True      # "Verwerfen"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    qtbot.waitUntil(lambda: drafts_of(cfg) == [], timeout=5000)


def test_alt_w_throws_the_restored_draft_away(qtbot: QtBot, window: MainWindow,
                                              cfg: Config) -> None:
    with opening.open_register(cfg) as store:
        save_draft(store, "anmeldung", "0190a000-0000-7000-8000-000000000001",
                   {"fields": {"persons.0.family_name": "Altlast"}, "persons": 1})
    dialog = open_anmeldung(qtbot, window)
    assert dialog.entries[0].text("family_name") == "Altlast"
    asked: list[bool] = []
    dialog.confirm_discard = lambda: asked.append(True) or True
    qtbot.keyClick(dialog, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    assert asked == [True]
    assert dialog.entries[0].text("family_name") == ""
    assert not dialog.draft_line.isVisible()
    assert dialog.command_id != "0190a000-0000-7000-8000-000000000001"
    assert not dialog.has_unsaved_input()
    qtbot.waitUntil(lambda: drafts_of(cfg) == [], timeout=5000)


def test_certificate_draft_is_kept_per_person_without_the_confirmations(
        qtbot: QtBot, window: MainWindow, cfg: Config) -> None:
    with opening.open_register(cfg) as store:
        person_id = str(store.conn.execute("SELECT id FROM persons LIMIT 1").fetchone()[0])
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        window.open_person(person_id)
    window.open_certificate("meldebescheinigung")
    dialog = window.service_dialog
    assert isinstance(dialog, MeldebescheinigungDialog) and dialog.drafts is not None
    qtbot.waitUntil(lambda: not dialog.drafts.looking, timeout=5000)  # type: ignore[union-attr]
    dialog.erweitert.setChecked(True)
    dialog.purpose.setText("Vorlage beim Arbeitgeber")
    dialog.ack.setChecked(True)
    assert "blocks_acknowledged" not in str(dialog.draft_data())
    dialog.confirm_discard = lambda: True
    dialog.hide()   # hidden without completing (e.g. the window closed): kept
    qtbot.waitUntil(lambda: len(drafts_of(cfg)) == 1, timeout=5000)
    (draft,) = drafts_of(cfg)
    assert (draft.kind, draft.person_id) == ("meldebescheinigung", person_id)
    dialog.done(0)
    qtbot.waitUntil(lambda: window.service_dialog is None, timeout=2000)

    window.open_certificate("meldebescheinigung")
    again = window.service_dialog
    assert isinstance(again, MeldebescheinigungDialog) and again.drafts is not None
    qtbot.waitUntil(lambda: again.drafts.restored_from is not None,  # type: ignore[union-attr]
                    timeout=5000)
    assert again.variant() == "erweitert"
    assert again.purpose.text() == "Vorlage beim Arbeitgeber"
    assert not again.ack.isChecked()
    assert again.command_id == draft.command_id
    again.confirm_discard = lambda: True
    again.reject()
    qtbot.waitUntil(lambda: drafts_of(cfg) == [], timeout=5000)


def test_status_text_names_the_keys() -> None:
    assert drafts_status([]) == ""
    assert drafts_status(["anmeldung", "meldebescheinigung"]) == \
        "2 Entwürfe gespeichert – F2/F6 setzt sie fort"
    set_language("en")
    assert drafts_status(["anmeldung", "anmeldung"]) == "2 drafts saved – F2 continue them"
