"""The status bar: connection state, workstation and clerk, office, DEMO badge.

Everything is said in words; colour only repeats it. The connection indicator is a widget of
its own so that the sync engine can update it later (`set_online`).
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QStatusBar, QWidget

from clerk_app.config import Config
from ui.i18n import tr


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

    def set_online(self, online: bool, detail: str = "") -> None:
        self._online = online
        word = tr("Online") if online else tr("Offline")
        colour = "#1b7f3b" if online else "#6b6b6b"
        text = f"<span style='color:{colour}'>●</span> {word}"
        if detail:
            text += f" · {detail}"
        self.setText(text)
        spoken = tr("Verbindung: {state}").format(state=word)
        self.setAccessibleName(spoken + (f", {detail}" if detail else ""))
        self.setToolTip(tr("Verbindung zur zentralen Stelle: {state}").format(state=word))


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


class StatusBarWidgets:
    """Fills the window's status bar once; keeps references for later updates."""

    def __init__(self, cfg: Config, bar: QStatusBar) -> None:
        bar.setAccessibleName(tr("Statusleiste"))
        self.connection = ConnectionIndicator()
        self.who = QLabel(tr("Arbeitsplatz {workstation} · Sachbearbeitung {clerk}").format(
            workstation=cfg.workstation, clerk=cfg.clerk))
        self.who.setObjectName("workstation")
        self.who.setAccessibleName(self.who.text())
        self.office = QLabel(cfg.office_name)
        self.office.setObjectName("office")
        self.office.setAccessibleName(tr("Dienststelle: {office}").format(
            office=cfg.office_name))
        bar.addPermanentWidget(self.connection)
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
