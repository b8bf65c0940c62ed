"""The status bar: connection and sync state, workstation and clerk, office, DEMO badge.

Everything is said in words; colour only repeats it. The sync controller
(`ui.sync_worker.SyncController`) describes its state as a `SyncView`; `show_sync` turns it
into words: online/offline (or offline-only when no central service is set up), the last
complete sync, how many commands wait for the central service, a warning when the central
service refused or the integrity check found a difference, and the open Klärfälle (a button:
it opens the list, as F12 does).

A sync warning is too important, and too long, for a squeezed status-bar field: it is a
banner of its own (`sync_warning`) that the window puts full-width above the status bar.
So are the window's messages ("Kein Drucker eingerichtet: … gespeichert unter …"): the
window's `MessageStatusBar` shows them in a wrapping line of their own (`message_line`),
never painted over, or cut off by, the connection indicator and the other fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QStatusBar, QWidget

from clerk_app.clerks import Actor
from clerk_app.config import Config
from sync.state import CHECKSUM_WARNING
from ui.formatting import fmt_date
from ui.i18n import tr
from ui.style import ERROR_RED, NOTICE_BACKGROUND, NOTICE_BORDER


def fmt_moment(iso: str | None, today: date | None = None) -> str:
    """An ISO timestamp (UTC or with offset) in local time, the German way: 'heute 14:05',
    'gestern 09:12', '24.11.2026 17:30'; '' for none or an unreadable one."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return ""
    local = moment.astimezone() if moment.tzinfo else moment
    today = today or date.today()
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if local.date() == today:
        return tr("heute {time}").format(time=clock)
    if local.date() == today - timedelta(days=1):
        return tr("gestern {time}").format(time=clock)
    return f"{fmt_date(local.date())} {clock}"


@dataclass(frozen=True)
class SyncView:
    """What the status bar says about the sync (built by the sync controller)."""

    configured: bool            # a central service is set up (cfg.central_url)
    online: bool = False        # the last sync reached the central service
    pending: int | None = None  # commands not yet accepted centrally (None: not known yet)
    conflicts: int = 0          # open Klärfälle
    last_success: str | None = None  # ISO time of the last complete sync
    warning: str = ""           # the engine's warning (checksum mismatch, resync), German
    refused: str = ""           # why the central service refused (UI language): no retries
    problem: str = ""           # why offline (UI language), for the tool tip
    update: str = ""            # a newer release the central service announced (signed)
    failure: str = ""           # what the last sync could not do here (German; IT must look)
    lease: str = ""             # the offline lease's last days (German), see offline_lease


class ConnectionIndicator(QLabel):
    """'● Offline' / '● Online': the word carries the meaning, the dot's colour repeats it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connection")
        self._online = False
        self.set_online(False)

    @property
    def online(self) -> bool:
        return self._online

    def set_online(self, online: bool, detail: str = "", why: str = "") -> None:
        """Show the state; `detail` follows the word, `why` (a reason) goes to the tool tip."""
        self._online = online
        word = tr("Online") if online else tr("Offline")
        colour = "#1b7f3b" if online else "#6b6b6b"
        text = f"<span style='color:{colour}'>●</span> {word}"
        if detail:
            text += f" · {detail}"
        self.setText(text)
        spoken = tr("Verbindung: {state}").format(state=word)
        self.setAccessibleName(spoken + (f", {detail}" if detail else ""))
        tip = tr("Verbindung zur zentralen Stelle: {state}").format(state=word)
        self.setToolTip(f"{tip}\n{why}" if why else tip)
        self.setAccessibleDescription(why)


def demo_badge(parent: QWidget | None = None) -> QLabel:
    """The yellow "DEMO – erfundene Daten" badge (status bar, service dialogs)."""
    badge = QLabel(tr("DEMO – erfundene Daten"), parent)
    badge.setObjectName("demoBadge")
    badge.setStyleSheet(
        "#demoBadge { background: #ffd54f; color: #000; font-weight: bold;"
        " border: 1px solid #8a6d00; border-radius: 3px; padding: 1px 8px; }")
    badge.setAccessibleName(tr("DEMO-Modus: Melderegister mit erfundenen Daten"))
    badge.setToolTip(tr("Demo-Register mit erfundenen Personen – keine echten Daten"))
    return badge


def _separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.VLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


class MessageStatusBar(QStatusBar):
    """A status bar whose messages (`showMessage`, a status tip) go to `message_line`, a
    full-width line the window puts above the bar: a long German sentence wraps instead of
    being cut where the permanent fields begin."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_line = QLabel()
        self.message_line.setObjectName("statusMessage")
        self.message_line.setTextFormat(Qt.TextFormat.PlainText)
        self.message_line.setWordWrap(True)
        self.message_line.setContentsMargins(2, 2, 2, 2)
        self.message_line.hide()
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.timeout.connect(self.clearMessage)

    def showMessage(self, text: str, timeout: int | None = 0) -> None:
        """Show `text` in the message line; gone after `timeout` ms (0: until replaced)."""
        self.message_line.setText(text)
        self.message_line.setAccessibleName(text)
        self.message_line.setVisible(bool(text))
        if timeout and text:
            self._expiry.start(timeout)
        else:
            self._expiry.stop()
        self.messageChanged.emit(text)

    def show_tip(self, tip: str) -> None:
        """A status tip (the mouse over a tool-bar button): shown, but never over a message
        that is still running its time (the clerk has not read it yet)."""
        if not self._expiry.isActive():
            self.showMessage(tip)

    def clearMessage(self) -> None:
        self.showMessage("")

    def currentMessage(self) -> str:
        return self.message_line.text()


class StatusBarWidgets:
    """Fills the window's status bar once; keeps references for later updates."""

    def __init__(self, cfg: Config, actor: Actor, bar: QStatusBar) -> None:
        bar.setAccessibleName(tr("Statusleiste"))
        self.connection = ConnectionIndicator()
        self.pending = QLabel()
        self.pending.setObjectName("syncPending")
        self.sync_warning = QLabel()   # placed by the window (see the module docstring)
        self.sync_warning.setObjectName("syncWarning")
        self.sync_warning.setTextFormat(Qt.TextFormat.PlainText)
        self.sync_warning.setWordWrap(True)
        self.sync_warning.setStyleSheet(
            f"#syncWarning {{ background: {NOTICE_BACKGROUND}; color: #000; font-weight: bold;"
            f" border: 1px solid {NOTICE_BORDER}; border-radius: 4px; padding: 4px 10px; }}")
        self.conflicts = QPushButton()
        self.conflicts.setObjectName("conflictsButton")
        self.conflicts.setFlat(True)
        self.conflicts.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # F12, no Tab stop
        self.conflicts.setCursor(Qt.CursorShape.PointingHandCursor)
        self.conflicts.setStyleSheet(
            f"#conflictsButton {{ color: {ERROR_RED}; font-weight: bold; padding: 0 4px; }}")
        self.update = QLabel()   # a due update: IT installs it, the clerk only learns of it
        self.update.setObjectName("updateDue")
        self.update.setVisible(False)
        self.who = QLabel(tr("Arbeitsplatz {workstation} · Sachbearbeitung {clerk}").format(
            workstation=cfg.workstation, clerk=actor.name))
        self.who.setObjectName("workstation")
        self.who.setAccessibleName(self.who.text())
        self.office = QLabel(cfg.office_name)
        self.office.setObjectName("office")
        self.office.setAccessibleName(tr("Dienststelle: {office}").format(
            office=cfg.office_name))
        bar.addPermanentWidget(self.update)
        bar.addPermanentWidget(self.conflicts)
        bar.addPermanentWidget(self.connection)
        self._pending_separator = _separator()
        bar.addPermanentWidget(self._pending_separator)
        bar.addPermanentWidget(self.pending)
        bar.addPermanentWidget(_separator())
        bar.addPermanentWidget(self.who)
        bar.addPermanentWidget(_separator())
        bar.addPermanentWidget(self.office)
        self.demo_badge: QLabel | None = None
        if cfg.is_demo:
            badge = demo_badge()
            bar.addPermanentWidget(_separator())
            bar.addPermanentWidget(badge)
            self.demo_badge = badge
        self.show_sync(SyncView(configured=bool(cfg.central_url)))

    def show_sync(self, view: SyncView) -> None:
        """Put the sync controller's state into words."""
        self._show_connection(view)
        self._show_pending(view)
        self._show_warning(view)
        self._show_conflicts(view.conflicts)
        self._show_update(view.update)

    def _show_connection(self, view: SyncView) -> None:
        if not view.configured:
            self.connection.set_online(False, tr("nur lokal – keine Zentrale eingerichtet"))
            return
        last = fmt_moment(view.last_success)
        if view.online:
            self.connection.set_online(True, tr("abgeglichen {when}").format(when=last))
            return
        detail = tr("zuletzt abgeglichen {when}").format(when=last) if last else \
            tr("noch nicht abgeglichen")
        self.connection.set_online(False, detail, view.refused or view.problem)

    def _show_pending(self, view: SyncView) -> None:
        label = self.pending
        shown = view.configured and view.pending is not None
        label.setVisible(shown)
        self._pending_separator.setVisible(shown)
        if view.pending is None:
            return
        if view.pending == 0:
            label.setText(tr("nichts zu übertragen"))
            label.setAccessibleName(tr("Keine Vorgänge warten auf die Übertragung an die Zentrale"))
        else:
            label.setText(tr("{n} nicht übertragen").format(n=view.pending))
            label.setAccessibleName(tr("Vorgänge, die noch nicht an die Zentrale übertragen "
                                       "sind: {n}").format(n=view.pending))
        label.setToolTip(label.accessibleName())

    def _show_warning(self, view: SyncView) -> None:
        label = self.sync_warning
        if view.refused:
            text = tr("⚠ Abgleich mit der Zentrale gestoppt: {reason}").format(
                reason=view.refused)
        elif view.warning == CHECKSUM_WARNING:
            text = tr("⚠ Der Abgleich mit der Zentrale hat Abweichungen gefunden; das "
                      "Melderegister wird vollständig neu abgeglichen. Nicht übertragene "
                      "Arbeit bleibt erhalten.")
        else:
            text = f"⚠ {view.warning}" if view.warning else ""
        for more in (view.failure, view.lease):
            if more:
                text = f"{text}\n⚠ {more}" if text else f"⚠ {more}"
        label.setText(text)
        label.setVisible(bool(text))
        label.setAccessibleName(text)

    def _show_update(self, version: str) -> None:
        label = self.update
        label.setVisible(bool(version))
        label.setText(tr("Update {version} verfügbar").format(version=version))
        label.setAccessibleName(tr("Eine neue Programmversion {version} ist verfügbar; die IT "
                                   "installiert sie.").format(version=version))
        label.setToolTip(label.accessibleName())

    def _show_conflicts(self, count: int) -> None:
        button = self.conflicts
        button.setVisible(count > 0)
        text = tr("1 Klärfall") if count == 1 else tr("{n} Klärfälle").format(n=count)
        button.setText(tr("⚠ {conflicts} (F12)").format(conflicts=text))
        button.setAccessibleName(tr("Offene Klärfälle: {n}, Taste F12").format(n=count))
        button.setToolTip(tr("Offene Klärfälle anzeigen und entscheiden (F12)"))
