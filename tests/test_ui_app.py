"""Starting the app: first start builds the demo register with a progress dialog, errors are
shown in words (never a traceback), a normal start does not load the demo generator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from clerk_app.config import Config
from clerk_app.keys import new_key
from clerk_app.store import opening
from tests import factories
from tests.factories import add_person
from ui import start_window
from ui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("german")

REPO = Path(__file__).resolve().parents[1]


def make_cfg(data_dir: Path, **changes: object) -> Config:
    """A first start here builds a small demo register: 300 residents."""
    return factories.make_cfg(data_dir, demo_residents=300, **changes)


class Watcher:
    """Plays the clerk while `run()` owns the event loop: reads and confirms error boxes,
    notes the progress dialog, and closes the main window once it is up and ready."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self.saw_progress = False
        self.main_window: dict[str, object] = {}
        self._timer = QTimer()
        self._timer.setInterval(15)
        self._timer.timeout.connect(self._look)
        self._timer.start()

    def _look(self) -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QMessageBox):
            self.messages.append((modal.windowTitle(), modal.text()))
            modal.accept()
            return
        if isinstance(modal, start_window.DemoProgressDialog):
            self.saw_progress = True
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible() and widget.db.is_running \
                    and widget.register_open:
                badge = widget.status.demo_badge
                self.main_window = {
                    "title": widget.windowTitle(),
                    "badge": badge.text() if badge is not None else None,
                    "focus": widget.search.hasFocus() or QApplication.focusWidget() is None,
                }
                widget.close()

    def stop(self) -> None:
        self._timer.stop()


@pytest.fixture
def watcher(qtbot: QtBot) -> Iterator[Watcher]:
    w = Watcher()
    yield w
    w.stop()


def test_first_start_builds_the_demo_register_then_shows_the_window(
        tmp_path: Path, watcher: Watcher) -> None:
    cfg = make_cfg(tmp_path)
    assert not opening.register_exists(cfg)
    assert start_window.run(cfg) == 0
    assert watcher.messages == []
    assert watcher.saw_progress, "the build shows its progress"
    assert "DEMO" in str(watcher.main_window["title"])
    assert "DEMO" in str(watcher.main_window["badge"])
    with opening.open_register(cfg) as store:
        assert store.query("SELECT count(*) AS n FROM persons")[0]["n"] == 300


def test_missing_key_file_is_a_german_message_and_exit_code_1(
        tmp_path: Path, watcher: Watcher) -> None:
    cfg = make_cfg(tmp_path, mode="production", key_file=str(tmp_path / "fehlt.key"))
    assert start_window.run(cfg) == 1
    assert len(watcher.messages) == 1
    title, text = watcher.messages[0]
    assert title == "Melderegister kann nicht geöffnet werden"
    assert "Schlüsseldatei" in text and "fehlt" in text
    assert "Traceback" not in text


def test_damaged_register_is_a_german_message(tmp_path: Path, watcher: Watcher) -> None:
    cfg = make_cfg(tmp_path)
    cfg.register_path.parent.mkdir(parents=True, exist_ok=True)
    cfg.register_path.write_bytes(os.urandom(8192))
    key_file = cfg.register_path.with_suffix(".key")
    key_file.write_text(new_key() + "\n", encoding="ascii")
    key_file.chmod(0o600)
    assert start_window.run(cfg) == 1
    assert len(watcher.messages) == 1
    assert "beschädigte Datei" in watcher.messages[0][1]


def test_demo_build_that_cannot_write_says_so(tmp_path: Path, watcher: Watcher) -> None:
    blocker = tmp_path / "eine-datei"
    blocker.write_text("kein Ordner", encoding="utf-8")
    cfg = make_cfg(blocker / "daten")
    assert start_window.run(cfg) == 1
    assert len(watcher.messages) == 1
    title, text = watcher.messages[0]
    assert title == "Demo-Register"
    assert "kann nicht angelegt werden" in text


def test_english_error_message(tmp_path: Path, watcher: Watcher) -> None:
    cfg = make_cfg(tmp_path, mode="production", key_file=str(tmp_path / "missing.key"),
                   language="en")
    assert start_window.run(cfg) == 1
    title, text = watcher.messages[0]
    assert title == "Cannot open the population register"
    assert "missing" in text


def test_font_scale_enlarges_the_application_font(qtbot: QtBot, tmp_path: Path) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = QFont(app.font())
    try:
        start_window.application(make_cfg(tmp_path, font_scale=1.5))
        assert app.font().pointSizeF() == pytest.approx(before.pointSizeF() * 1.5)
        assert app.applicationName() == "clerk-app"
        assert QApplication.translate("QPlatformTheme", "Cancel") == "Abbrechen"
    finally:
        app.setFont(before)


def test_normal_start_does_not_load_the_demo_generator(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path)
    with opening.open_register(cfg, create=True) as store:
        add_person(store, "Müller", "Anna")
    script = textwrap.dedent("""
        import dataclasses, json, os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from clerk_app.config import Config
        from ui import start_window
        from ui.main_window import MainWindow

        qapp = QApplication([])
        cfg = dataclasses.replace(Config(), data_dir=sys.argv[1], mode="demo",
                                  workstation="Schalter 3")
        seen = {}

        def look():
            for w in QApplication.topLevelWidgets():
                if isinstance(w, MainWindow) and w.isVisible() and w.register_open:
                    seen["demo"] = "clerk_app.demo" in sys.modules
                    seen["faker"] = "faker" in sys.modules
                    w.close()
                    return
            QTimer.singleShot(10, look)

        QTimer.singleShot(0, look)
        code = start_window.run(cfg)
        print(json.dumps({"code": code, **seen}))
    """)
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "demo": False, "faker": False}
