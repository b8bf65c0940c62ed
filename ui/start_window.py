"""Starting the window: application, language, demo register at first start, errors in words.

`run(cfg)` is what `clerk-app` (no sub-command) calls. A clerk never sees a traceback: an
expected failure (`ClerkError`) is shown with its German message, anything else with a plain
German sentence, and the traceback goes to the log.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEventLoop,
    QLibraryInfo,
    QLocale,
    QObject,
    Qt,
    QThread,
    QTranslator,
    Signal,
    Slot,
)
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from clerk_app import __version__
from clerk_app.config import Config
from clerk_app.errors import ClerkError
from ui.formatting import fmt_int
from ui.i18n import error_text, set_language, tr
from ui.style import FOCUS_CSS

if TYPE_CHECKING:
    from clerk_app.login import ClerkSession

log = logging.getLogger(__name__)

APP_NAME = "clerk-app"
MIN_FONT_SCALE, MAX_FONT_SCALE = 0.5, 3.0


def application(cfg: Config) -> QApplication:
    """The one QApplication (created here unless one exists), named, font scaled."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    _install_qt_translations(app, cfg.language)
    app.setStyleSheet(FOCUS_CSS)   # every window and dialog shows where the keyboard is
    scale = min(max(cfg.font_scale, MIN_FONT_SCALE), MAX_FONT_SCALE)
    if abs(scale - 1.0) > 1e-3:
        font = QFont(app.font())
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * scale)
        elif font.pixelSize() > 0:
            font.setPixelSize(round(font.pixelSize() * scale))
        app.setFont(font)
    return app


_qt_translator: QTranslator | None = None


def _install_qt_translations(app: QApplication, language: str) -> None:
    """Qt's own words (OK, Abbrechen, the text field's context menu) in the UI language."""
    global _qt_translator
    if _qt_translator is not None:
        app.removeTranslator(_qt_translator)
        _qt_translator = None
    locale = QLocale(QLocale.Language.German if language == "de" else QLocale.Language.English,
                     QLocale.Country.Germany)
    QLocale.setDefault(locale)
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(locale, "qtbase", "_", folder) and app.installTranslator(translator):
        _qt_translator = translator


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """A modal, plainly worded error box (German unless the UI language is English)."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text,
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorBox")
    box.setAccessibleName(title)
    box.setAccessibleDescription(text)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()


class _DemoBuilder(QObject):
    """Builds the demo register in its own thread, with its own Store."""

    progress = Signal(int, int)
    done = Signal()
    failed = Signal(str, str)

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self._cfg = cfg
        self._last_emit = 0.0

    def _report(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last_emit >= 0.05:
            self._last_emit = now
            self.progress.emit(done, total)

    @Slot()
    def run(self) -> None:
        try:
            # Imported here only: the generator (and Faker) never load at a normal start.
            from clerk_app.demo.build import build_demo_register
            from clerk_app.store.opening import open_register

            store = open_register(self._cfg, create=True)
            try:
                summary = build_demo_register(store, self._cfg.demo_residents,
                                              progress=self._report)
            finally:
                store.close()
            log.info("demo register built: %s", summary)
        except ClerkError as exc:
            log.error("cannot build the demo register: %s", exc.message_en)
            self.failed.emit(exc.message_de, exc.message_en)
            return
        except Exception as exc:
            log.exception("unexpected error while building the demo register")
            self.failed.emit(
                tr("Das Demo-Register konnte nicht angelegt werden. Bitte die IT verständigen."),
                f"unexpected error while building the demo register: {type(exc).__name__}")
            return
        self.done.emit()


class DemoProgressDialog(QDialog):
    """Progress of the first-start demo build; it cannot be closed half-way."""

    def __init__(self, total: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demoProgress")
        self.setWindowTitle(tr("Demo-Register wird angelegt"))
        self.setAccessibleName(tr("Demo-Register wird angelegt"))
        self.setModal(True)
        self.finished_ok = False
        self._closable = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(10)
        intro = QLabel(tr("Erster Start im Demo-Modus: Das Melderegister wird mit {n} "
                          "erfundenen Personen angelegt. Das dauert einen Moment.").format(
                              n=fmt_int(total)))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.bar = QProgressBar()
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(0)
        self.bar.setAccessibleName(tr("Fortschritt"))
        layout.addWidget(self.bar)
        self.label = QLabel(tr("Wird vorbereitet …"))
        layout.addWidget(self.label)
        self.setMinimumWidth(460)

    def set_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.label.setText(tr("{done} von {total} Personen").format(
            done=fmt_int(done), total=fmt_int(total)))

    def finish(self) -> None:
        self._closable = True
        self.accept()

    def reject(self) -> None:
        if self._closable:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closable:
            super().closeEvent(event)
        else:
            event.ignore()


class _BuildWaiter(QObject):
    """Lives in the UI thread, so the builder's answers reach it queued, never half-way."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = QEventLoop()
        self.finished = False
        self.failure: tuple[str, str] | None = None

    @Slot()
    def on_done(self) -> None:
        self.finished = True
        self.loop.quit()

    @Slot(str, str)
    def on_failed(self, message_de: str, message_en: str) -> None:
        self.failure = (message_de, message_en)
        self.finished = True
        self.loop.quit()


def build_demo_with_progress(cfg: Config, parent: QWidget | None = None) -> bool:
    """Build the demo register in a worker thread while a progress dialog shows how far.

    Returns True when it is ready; on failure the error has been shown and the half-built
    demo register removed, so the next start tries again.
    """
    dialog = DemoProgressDialog(cfg.demo_residents, parent)
    thread = QThread()
    thread.setObjectName("clerk-demo-builder")
    builder = _DemoBuilder(cfg)
    builder.moveToThread(thread)
    waiter = _BuildWaiter()
    builder.progress.connect(dialog.set_progress)
    builder.done.connect(waiter.on_done)
    builder.failed.connect(waiter.on_failed)
    thread.started.connect(builder.run)
    dialog.show()
    thread.start()
    if not waiter.finished:
        waiter.loop.exec()
    thread.quit()
    thread.wait()
    dialog.finish()
    dialog.deleteLater()
    if waiter.failure is not None:
        message_de, message_en = waiter.failure
        _remove_half_built(cfg)
        show_error(parent, tr("Demo-Register"),
                   message_en if cfg.language == "en" else message_de)
        return False
    return True


def _remove_half_built(cfg: Config) -> None:
    from clerk_app.store.opening import remove_demo_register

    try:
        remove_demo_register(cfg)
    except (OSError, ValueError) as exc:
        log.error("cannot remove the half-built demo register: %s", exc)


def show_withdrawn(cfg: Config) -> int:
    """A withdrawn workstation opens nothing but the notice (and deletes what a previous
    attempt left); 1 = could not start."""
    from clerk_app.withdrawal import remove_local_data
    from ui.withdrawn import WithdrawnDialog

    log.warning("start refused: this workstation was withdrawn centrally")
    remove_local_data(cfg)
    WithdrawnDialog().exec()
    return 1


def run(cfg: Config) -> int:
    """Log a clerk in, show the main window and run until it closes; after a logout (from the
    lock) the login comes back for the next clerk. 0 = normal end, 1 = could not start."""
    set_language(cfg.language)
    app = application(cfg)
    from clerk_app.withdrawal import is_withdrawn

    if is_withdrawn(cfg):
        return show_withdrawn(cfg)
    if not cfg.is_demo and (not _workstation_ready(cfg) or _register_problem(cfg)):
        return 1
    while True:
        session = _log_in(cfg)
        if session is None:   # the clerk closed the login, or the centre withdrew it meanwhile
            return show_withdrawn(cfg) if is_withdrawn(cfg) else 0
        code, logged_out = _run_window(cfg, session, app)
        if not logged_out:
            return code


def _log_in(cfg: Config) -> ClerkSession | None:
    """The clerk for the next window: the demo clerk in demo mode (no password), else whoever
    logs in (None if the login was closed)."""
    from clerk_app.login import demo_session
    from ui.login_screen import ask_login

    return demo_session(cfg) if cfg.is_demo else ask_login(cfg)


def _workstation_ready(cfg: Config) -> bool:
    """A production workstation that is not set up, or a part of it missing, is told to the
    clerk in words (with the offer to unlock a locked keyring) before anything else opens."""
    from ui.workstation_check import workstation_ready

    return workstation_ready(cfg, show_error)


def _register_problem(cfg: Config) -> bool:
    """Open the register once before the login (whose offline verifiers live in it): a
    missing key or a damaged file is said now, in words, not as a failed login."""
    from clerk_app.clerks import system_actor
    from clerk_app.store.opening import open_register

    try:
        open_register(cfg, system_actor("login", cfg.workstation)).close()
    except ClerkError as exc:
        log.error("cannot open the register: %s", exc.message_en)
        show_error(None, tr("Melderegister kann nicht geöffnet werden"), error_text(exc))
        return True
    return False


def _run_window(cfg: Config, session: ClerkSession, app: QApplication) -> tuple[int, bool]:
    """The main window for `session` until it closes: (exit code, whether the clerk logged
    out)."""
    try:
        from clerk_app.store.opening import register_exists
        from ui.main_window import MainWindow

        if cfg.is_demo and not register_exists(cfg) and not build_demo_with_progress(cfg):
            return 1, False
        window = MainWindow(cfg, session.actor, clerk_session=session.token)
    except ClerkError as exc:
        log.error("cannot start: %s", exc.message_en)
        show_error(None, tr("Start nicht möglich"), error_text(exc))
        return 1, False
    except Exception:
        log.exception("unexpected error at start")
        show_error(None, tr("Start nicht möglich"),
                   tr("Unerwarteter Fehler beim Start. Bitte die IT verständigen."))
        return 1, False

    failed: list[int] = []

    def on_open_failed(message_de: str, message_en: str) -> None:
        failed.append(1)
        show_error(window, tr("Melderegister kann nicht geöffnet werden"),
                   message_en if cfg.language == "en" else message_de)
        window.db.shutdown()
        # hide, not close: closing the last window would post a quit event that outlives
        # this run (and would end whatever event loop runs next).
        window.hide()
        app.exit(1)

    window.db.open_failed.connect(on_open_failed)
    window.start()   # the register's key derivation runs in the worker while the window shows
    window.show()
    code = app.exec()
    window.db.shutdown()
    logged_out = window.screen_lock.logged_out and not failed
    window.deleteLater()
    return (1 if failed else int(code)), logged_out
