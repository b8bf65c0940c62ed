"""Login and lock in the window (pytest-qt): the login dialog with a first-login password
change; Ctrl+L and the idle time lock the window with a draft open (content hidden, keys
off), the same clerk's password unlocks it with the draft back, a wrong one does not; after
"Abmelden" another clerk logs in and never sees the first clerk's draft."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from clerk_app.clerks import Actor
from clerk_app.config import Config
from clerk_app.draft_store import load_drafts
from clerk_app.login import ClerkSession, LoginRefused, OnlineAccount, log_in
from clerk_app.store import opening
from tests.factories import make_cfg
from tests.test_ui_drafts import open_anmeldung
from tests.ui_support import activate, start_window, type_keys
from ui.login_screen import LoginDialog
from ui.main_window import MainWindow
from ui.registration.actions import RegistrationActions
from ui.screen_lock import LockPanel

RESIDENTS = 200
EVA = Actor("emeier", "Schalter 3", ("sachbearbeitung",), "Eva Meier")
KARL = Actor("kkurz", "Schalter 3", ("sachbearbeitung",), "Karl Kurz")
PASSWORDS = {"emeier": "Drei Tassen Kaffee am Morgen", "kkurz": "Der Zug nach Basel fährt"}
SHOTS = os.environ.get("CLERK_UI_SHOTS", "")
pytestmark = pytest.mark.usefixtures("german")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo register where Eva and Karl have logged in online before (their verifiers are
    cached for unlocking)."""
    from clerk_app.demo.build import build_demo_register

    folder = tmp_path_factory.mktemp("lock_register")
    cfg = make_cfg(folder, demo_residents=RESIDENTS)
    with opening.open_register(cfg, create=True) as store:
        build_demo_register(store, residents=RESIDENTS)
        for actor in (EVA, KARL):
            def centre(_cfg: Config, login: str, _pw: str, _new: str | None = None,
                       actor: Actor = actor) -> OnlineAccount:
                return OnlineAccount(login, actor.name, actor.roles, "token")

            log_in(cfg, store, actor.clerk, PASSWORDS[actor.clerk], online=centre)
    return folder


@pytest.fixture
def cfg(data_dir: Path) -> Config:
    return make_cfg(data_dir, demo_residents=RESIDENTS)


def window_for(qtbot: QtBot, cfg: Config, actor: Actor) -> MainWindow:
    w = start_window(qtbot, MainWindow(cfg, actor))
    activate(qtbot, w)
    return w


def panel(w: MainWindow) -> LockPanel:
    widget = w.centralWidget()
    assert isinstance(widget, LockPanel)
    return widget


def unlock_with(qtbot: QtBot, w: MainWindow, password: str) -> None:
    p = panel(w)
    p.password.setText(password)
    qtbot.mouseClick(p.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.screen_lock.locked or p.unlock_button.isEnabled(),
                    timeout=5000)


@pytest.fixture
def eva(qtbot: QtBot, cfg: Config) -> Iterator[MainWindow]:
    w = window_for(qtbot, cfg, EVA)
    yield w
    if not w.screen_lock.logged_out:
        actions = w.findChild(RegistrationActions)
        if actions is not None and actions.dialog is not None:
            actions.dialog.confirm_discard = lambda: True  # type: ignore[method-assign]
            actions.dialog.reject()
        w.close()


def test_ctrl_l_locks_hides_the_content_and_only_the_clerks_password_unlocks(
        qtbot: QtBot, eva: MainWindow, cfg: Config) -> None:
    dialog = open_anmeldung(qtbot, eva)
    entry = dialog.entries[0]
    entry.edits["family_name"].setFocus()
    type_keys(qtbot, entry.edits["family_name"], "Sperrtest")
    qtbot.keyClick(entry.edits["family_name"], Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert eva.screen_lock.locked
    assert not dialog.isVisible(), "the open work is hidden"
    assert not eva.search.isVisible() and not eva.table.isVisible(), "content hidden"
    assert "Eva Meier" in " ".join(lbl.text() for lbl in panel(eva).findChildren(
        type(panel(eva).message)))
    qtbot.waitUntil(lambda: [d.kind for d in drafts(cfg, EVA)] == ["anmeldung"],
                    timeout=5000)  # kept, for its owner
    registration = eva.findChild(RegistrationActions)
    assert registration is not None
    if SHOTS:
        eva.grab().save(str(Path(SHOTS) / "screenshot-lock.png"))
    # Keys of the window are off while locked: F2 opens nothing.
    qtbot.keyClick(panel(eva).password, Qt.Key.Key_F2)
    assert registration.dialog is dialog
    unlock_with(qtbot, eva, PASSWORDS["kkurz"])        # another clerk's password
    assert eva.screen_lock.locked and "falsch" in panel(eva).message.text()
    unlock_with(qtbot, eva, PASSWORDS["emeier"])
    assert not eva.screen_lock.locked
    qtbot.waitExposed(dialog)
    assert dialog.isVisible() and entry.text("family_name") == "Sperrtest"
    assert eva.search.isVisibleTo(eva)


def test_idle_time_locks_the_window(qtbot: QtBot, eva: MainWindow) -> None:
    assert eva.screen_lock.idle.interval() == 10 * 60_000   # the default: 10 minutes
    eva.screen_lock.idle.setInterval(200)
    eva.screen_lock.idle.start()
    qtbot.waitUntil(lambda: eva.screen_lock.locked, timeout=5000)
    unlock_with(qtbot, eva, PASSWORDS["emeier"])
    assert not eva.screen_lock.locked


def drafts(cfg: Config, actor: Actor) -> list[object]:
    with opening.open_register(cfg, actor) as store:
        return list(load_drafts(store, actor.clerk, actor.workstation))


def test_after_logout_another_clerk_never_sees_the_first_clerks_draft(
        qtbot: QtBot, eva: MainWindow, cfg: Config) -> None:
    dialog = open_anmeldung(qtbot, eva)
    entry = dialog.entries[0]
    entry.edits["family_name"].setFocus()
    type_keys(qtbot, entry.edits["family_name"], "Evasentwurf")
    eva.screen_lock.lock()
    qtbot.mouseClick(panel(eva).logout_button, Qt.MouseButton.LeftButton)
    assert eva.screen_lock.logged_out and not eva.isVisible()
    qtbot.waitUntil(lambda: len(drafts(cfg, EVA)) == 1, timeout=5000)
    karl = window_for(qtbot, cfg, KARL)
    try:
        other = open_anmeldung(qtbot, karl)
        assert other.entries[0].text("family_name") == "", "Karl gets no prefill from Eva"
        assert drafts(cfg, KARL) == []
        other.confirm_discard = lambda: True  # type: ignore[method-assign]
        other.reject()
    finally:
        karl.close()
    assert len(drafts(cfg, EVA)) == 1, "Eva's draft waits for Eva"


# --- the login dialog ------------------------------------------------------------------------

class FakeLogin:
    """The login as `clerk_app.login.log_in` answers (tested there); here only the dialog."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def __call__(self, cfg: Config, login: str, password: str,
                 new_password: str | None) -> ClerkSession:
        self.calls.append((login, password, new_password))
        if password == "falsch":
            raise LoginRefused("Anmeldename oder Passwort ist falsch.", "wrong")
        if new_password is None and password == "einmal":
            return ClerkSession(EVA, must_change_password=True)
        return ClerkSession(EVA, token="t", online=True)


def test_login_dialog_first_login_sets_a_new_password(qtbot: QtBot, cfg: Config) -> None:
    fake = FakeLogin()
    dialog = LoginDialog(cfg, login_call=fake)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.new_password.isVisible()
    type_keys(qtbot, dialog.login, "emeier")
    dialog.password.setText("falsch")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy and "falsch" in dialog.message.text(), timeout=5000)
    assert dialog.password.text() == "" and dialog.result() == 0
    dialog.password.setText("einmal")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.new_password.isVisible(), timeout=5000)
    if SHOTS:
        dialog.grab().save(str(Path(SHOTS) / "screenshot-login.png"))
    dialog.new_password.setText("Drei Tassen Kaffee am Morgen")
    dialog.repeat.setText("Drei Tassen Kaffee am Abend")
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    assert "stimmen nicht" in dialog.message.text()
    dialog.repeat.setText("Drei Tassen Kaffee am Morgen")
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5000)
    assert dialog.session is not None and dialog.session.actor == EVA
    assert fake.calls[-1] == ("emeier", "einmal", "Drei Tassen Kaffee am Morgen")


# --- screens by role; the Datenschutz screen ---------------------------------------------------

def visible_keys(w: MainWindow) -> set[str]:
    return {a.iconText().split()[0] for a in w.toolbar.actions() if a.isVisible() and a.text()}


def test_keys_follow_the_roles(qtbot: QtBot, cfg: Config) -> None:
    kasse = window_for(qtbot, cfg, Actor("kasse1", "Schalter 3", ("kasse",), "Kai Kasse"))
    try:
        assert visible_keys(kasse) == {"F9"}
        qtbot.keyClick(kasse.search, Qt.Key.Key_F2)
        registration = kasse.findChild(RegistrationActions)
        assert registration is None or registration.dialog is None
    finally:
        kasse.close()


def test_datenschutz_sees_who_looked_at_a_person_and_prints_it(
        qtbot: QtBot, cfg: Config, tmp_path: Path) -> None:
    from PySide6.QtPrintSupport import QPrinter

    from clerk_app.person_record import open_person
    from tests.factories import text_of
    from ui.access_log_view import AccessLogDialog

    with opening.open_register(cfg, EVA) as store:
        person = store.query("SELECT id, family_name FROM persons LIMIT 1")[0]
        open_person(store, person["id"], "Meldebescheinigung am Schalter")
    officer = Actor("dschutz", "Schalter 3", ("datenschutz",), "Dana Schutz")
    w = window_for(qtbot, cfg, officer)
    try:
        assert "F11" in visible_keys(w) and "F2" not in visible_keys(w)
        type_keys(qtbot, w.search, person["family_name"])
        qtbot.waitUntil(lambda: w.model.rowCount() > 0 and not w.busy, timeout=10_000)
        w.table.selectRow(next(r for r, h in enumerate(w.model.hits) if h.id == person["id"]))
        qtbot.keyClick(w.search, Qt.Key.Key_F11)
        dialog = w.findChild(AccessLogDialog)
        assert dialog is not None
        qtbot.waitExposed(dialog)
        dialog.purpose.setText("Auskunftsersuchen Art. 15 DSGVO, Az. 42")
        qtbot.mouseClick(dialog.show_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.report is not None, timeout=5000)
        rows = [[dialog.table.item(r, c).text() for c in range(5)]
                for r in range(dialog.table.rowCount())]
        assert any(r[1] == "emeier" and r[4] == "Meldebescheinigung am Schalter" for r in rows)
        assert rows[0][1] == "dschutz" and "Az. 42" in rows[0][4], "the look-up is logged"
        if SHOTS:
            dialog.grab().save(str(Path(SHOTS) / "screenshot-zugriffsprotokoll.png"))
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(tmp_path / "auskunft.pdf"))
        dialog.print_to(printer)
        text = text_of((tmp_path / "auskunft.pdf").read_bytes())
        assert "Art. 15 DSGVO" in text and "emeier" in text and "Dana Schutz" in text
        dialog.close()
    finally:
        w.close()


# --- after the Tagesabschluss: no cash offered; Teamleitung reopens the day ---------------------

def test_after_closing_no_cash_is_offered_until_teamleitung_reopens(
        qtbot: QtBot, cfg: Config) -> None:
    from clerk_app.clerks import demo_actor
    from clerk_app.ids import uuid7
    from clerk_app.services.runner import run_service
    from ui.cash_desk import CashDeskDialog
    from ui.certificate_dialogs import MeldebescheinigungDialog

    lead = demo_actor(cfg.workstation)   # every role, Teamleitung too
    with opening.open_register(cfg, lead) as store:
        run_service(store, "tagesabschluss", {"counted_cash_cents": 0}, uuid7())
        person = store.query("SELECT id FROM persons LIMIT 1")[0]["id"]
    w = window_for(qtbot, cfg, lead)
    try:
        with qtbot.waitSignal(w.db.person_done, timeout=5000):
            w.open_person(person)
        qtbot.keyClick(w.search, Qt.Key.Key_F6)
        dialog = w.service_dialog
        assert isinstance(dialog, MeldebescheinigungDialog)
        qtbot.waitUntil(lambda: dialog.payment.day_closed, timeout=5000)
        assert not dialog.payment.bar.isVisibleTo(dialog)
        assert dialog.payment.closed_label.isVisibleTo(dialog)
        dialog.confirm_discard = lambda: True  # type: ignore[method-assign]
        dialog.reject()
        qtbot.waitUntil(lambda: w.service_dialog is None, timeout=3000)
        activate(qtbot, w)
        qtbot.keyClick(w.search, Qt.Key.Key_F9)
        desk = w.service_dialog
        assert isinstance(desk, CashDeskDialog)
        qtbot.waitUntil(lambda: desk.cash_day is not None, timeout=5000)
        assert desk.reopen_button.isVisibleTo(desk)
        desk.ask_reopen_reason = lambda: "Kartenzahlung nachbuchen"
        qtbot.mouseClick(desk.reopen_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: desk.cash_day is not None and not desk.cash_day.closed,
                        timeout=5000)
        assert not desk.reopen_button.isVisibleTo(desk) and desk.closing_button.isEnabled()
        desk.reject()
        qtbot.waitUntil(lambda: w.service_dialog is None, timeout=3000)
        with opening.open_register(cfg, lead) as store:
            assert store.query("SELECT reason FROM day_reopenings") == [
                {"reason": "Kartenzahlung nachbuchen"}]
        activate(qtbot, w)
        qtbot.keyClick(w.search, Qt.Key.Key_F6)
        again = w.service_dialog
        assert isinstance(again, MeldebescheinigungDialog)
        qtbot.wait(300)
        assert again.payment.bar.isVisibleTo(again) and not again.payment.day_closed
        again.confirm_discard = lambda: True  # type: ignore[method-assign]
        again.reject()
    finally:
        w.close()
