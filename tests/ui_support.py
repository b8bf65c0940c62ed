"""What the UI tests share: starting the real main window on a register, typing with real key
events, waiting for the window, the certificate dialogs' keys, screenshots on request.

The fixtures built on these (`german`, `cfg`, `people`, `window`) are in `tests/conftest.py`;
a UI module supplies its own `register` (data folder and hand-made persons) for them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt, SignalInstance
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from clerk_app.config import Config
from clerk_app.store import opening
from clerk_app.store.db import Store
from tests.factories import demo_register, make_cfg
from ui.certificate_dialogs import CertificateDialog
from ui.main_window import MainWindow

# A UI module's register: its data folder and the ids of its hand-made persons by name.
Register = tuple[Path, dict[str, str]]

# Screenshots for review (docs/screenshot-*.png): CLERK_UI_SHOTS=docs pytest ...
SHOTS = os.environ.get("CLERK_UI_SHOTS", "")


@contextmanager
def module_register(tmp_path_factory: pytest.TempPathFactory,
                    residents: int) -> Iterator[tuple[Path, Store]]:
    """A test module's demo register in a folder of its own (`make_cfg`), open for the
    module's hand-made persons; yields the folder and the open register."""
    data_dir = tmp_path_factory.mktemp("register")
    with demo_register(make_cfg(data_dir), residents) as store:
        yield data_dir, store


# --- the window ------------------------------------------------------------------------------

def start_window(qtbot: QtBot, w: MainWindow, *also: SignalInstance) -> MainWindow:
    """Show and start `w`; back once its register is open (and each of `also` has come, for
    up to 30 s: a start-up's background work)."""
    qtbot.addWidget(w)
    with ExitStack() as waits:
        for signal in also:
            waits.enter_context(qtbot.waitSignal(signal, timeout=30_000))
        waits.enter_context(qtbot.waitSignal(w.db.opened, timeout=10_000))
        w.show()
        w.start()
    return w


def activate(qtbot: QtBot, w: MainWindow) -> None:
    """Wait until `w` is on screen and has the keyboard, as at a counter."""
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)


def open_window(qtbot: QtBot, cfg: Config) -> MainWindow:
    """The main window on `cfg`'s register, started, on screen and active."""
    w = start_window(qtbot, MainWindow(cfg))
    activate(qtbot, w)
    return w


def close_window(w: MainWindow) -> None:
    """Close the service dialog still open (if any), then the window."""
    if w.service_dialog is not None:
        w.service_dialog.done(0)
    w.close()


def settle(qtbot: QtBot, w: MainWindow) -> None:
    """Wait for the search in flight."""
    qtbot.waitUntil(lambda: not w.busy, timeout=10_000)
    qtbot.wait(10)


# --- keys ------------------------------------------------------------------------------------

def type_keys(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Real key events; QTest's keyClicks only knows ASCII, so others go as text events."""
    for ch in text:
        if ch.isascii():
            qtbot.keyClick(widget, ch)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(
                    widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))


def type_search(qtbot: QtBot, w: MainWindow, text: str) -> None:
    """Type like a clerk and wait for the answer."""
    type_keys(qtbot, w.search, text)
    settle(qtbot, w)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


class Keys:
    """Real key events to whatever has the keyboard focus, counted."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        self.count = 0

    def press(self, key: Qt.Key,
              modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        widget = QApplication.focusWidget()
        assert widget is not None, "no widget has the keyboard focus"
        self.count += 1
        self.qtbot.keyClick(widget, key, modifier)

    def type(self, text: str) -> None:
        widget = QApplication.focusWidget()
        assert widget is not None
        self.count += len(text)
        type_keys(self.qtbot, widget, text)


# --- certificates ----------------------------------------------------------------------------

def open_found_person(qtbot: QtBot, w: MainWindow, query: str, person_id: str) -> None:
    """Search and Enter, as the clerk does: the person is open, the cursor in the search."""
    type_search(qtbot, w, query)
    with qtbot.waitSignal(w.db.person_done, timeout=5000):
        qtbot.keyClick(w.search, Qt.Key.Key_Return)
    assert w.person_view.record is not None and w.person_view.record.id == person_id
    assert w.search.hasFocus()


def open_dialog(qtbot: QtBot, w: MainWindow, keys: Keys, key: Qt.Key) -> CertificateDialog:
    keys.press(key)
    qtbot.waitUntil(lambda: w.service_dialog is not None and w.service_dialog.isVisible(),
                    timeout=3000)
    dialog = w.service_dialog
    assert isinstance(dialog, CertificateDialog)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    return dialog


def wait_done(qtbot: QtBot, dialog: CertificateDialog) -> None:
    qtbot.waitUntil(lambda: dialog.is_done, timeout=5000)


# --- reading back ----------------------------------------------------------------------------

def rows(cfg: Config, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of `sql` in `cfg`'s register, read outside the window."""
    with opening.open_register(cfg) as store:
        return store.query(sql, args)


def norm(text: str) -> str:
    """Screen text with the no-break space before "€" as a plain one, for comparing."""
    return text.replace("\xa0", " ")


def unnamed_controls(parent: QWidget, *also_skip: str) -> list[str]:
    """The visible controls under `parent` that take the keyboard focus and have no
    accessible name (labels and scroll bars aside, and the classes named in `also_skip`)."""
    skip = ("QScrollBar", *also_skip)
    return [f"{type(w).__name__}:{w.objectName()}" for w in parent.findChildren(QWidget)
            if w.isVisible() and w.focusPolicy() != Qt.FocusPolicy.NoFocus
            and not w.accessibleName() and not isinstance(w, QLabel)
            and type(w).__name__ not in skip]


def save_shot(widget: QWidget, name: str) -> None:
    """Grab `widget` to SHOTS/name when screenshots are asked for (never by default)."""
    if not SHOTS:
        return
    QApplication.processEvents()
    assert widget.grab().save(str(Path(SHOTS) / name))
