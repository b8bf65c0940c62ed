"""F1: the keys and a short help for the screen in view.

In the main window F1 is an action of the key table (`ui.function_keys`); in a service dialog
(its own window, where the main window's keys do not reach) `DialogKeys` catches F1 and Ctrl+Q
for it. The help lists the keys from the same table the menu and the tool bar are made of, so
it never tells of a key that does not exist; a dialog adds its own keys (Tab, Enter,
Ctrl+Enter, Esc ...). Each screen has a few sentences of what it is for (`SCREEN_HELP`, by
the dialog's class; a dialog without its own sentences gets the form's general ones).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ui.function_keys import granted_keys, key_name
from ui.i18n import tr

if TYPE_CHECKING:
    from ui.main_window import MainWindow


def screen_help(screen: QWidget) -> str:
    """The few sentences for `screen` (the main window or one of its dialogs)."""
    texts = {
        "MainWindow": lambda: tr(
            "Suchen: Name, Geburtsdatum (TT.MM.JJJJ) oder Straße mit Hausnummer eingeben; "
            "↑/↓ wählen einen Treffer, Enter öffnet die Person. Ein Ausweis kann in das "
            "Suchfeld gescannt werden. Die Dienste (F2–F10) arbeiten mit der geöffneten "
            "Person; Esc leert alles für die nächste Bürgerin oder den nächsten Bürger."),
        "AnmeldungDialog": lambda: tr(
            "Anmeldung (§ 17 BMG): Personen, neue Wohnung, bisherige Anschrift und die "
            "Wohnungsgeberbestätigung eintragen. Alt+P fügt eine Person hinzu."),
        "UmmeldungDialog": lambda: tr(
            "Ummeldung: Umzug innerhalb der Stadt. Die umziehenden Personen ankreuzen, die "
            "neue Anschrift und das Einzugsdatum eintragen."),
        "AbmeldungDialog": lambda: tr(
            "Abmeldung: Wegzug ins Ausland (Staat und Anschrift) oder Aufgabe einer "
            "Nebenwohnung. Die abmeldenden Personen ankreuzen."),
        "MeldebescheinigungDialog": lambda: tr(
            "Meldebescheinigung (§ 18 BMG): einfach oder erweitert; Gebühr und Zahlung "
            "unten. Nach dem Ausstellen druckt F5."),
        "LebensbescheinigungDialog": lambda: tr(
            "Lebensbescheinigung für eine Stelle (z. B. Rentenversicherung); den Ausweis "
            "prüfen und bestätigen."),
        "PersonenstandsurkundeDialog": lambda: tr(
            "Antrag auf eine Personenstandsurkunde: Urkunde, Anzahl, Berechtigung und "
            "Zustellung wählen; die Gebühr richtet sich nach der Anzahl."),
        "CashDeskDialog": lambda: tr(
            "Kasse: Quittungen des Tages, Wechselgeld, Storno mit Grund und der "
            "Tagesabschluss (gezähltes Bargeld gegen den Sollbestand)."),
    }
    text = texts.get(type(screen).__name__)
    if text is not None:
        return text()
    return tr("Tab und Umschalt+Tab gehen durch die Felder, Enter im letzten Feld oder "
              "Strg+Enter schließt ab, Esc bricht ab (nach einer Rückfrage, wenn etwas "
              "eingegeben wurde).")


def dialog_keys() -> list[tuple[str, str]]:
    """The keys every service dialog knows (`ui.form_dialog`, the print bar, the drafts)."""
    return [("Tab", tr("nächstes Feld")), ("Shift+Tab", tr("voriges Feld")),
            ("Return", tr("nächstes Feld; im letzten Feld abschließen")),
            ("Ctrl+Return", tr("abschließen")), ("Esc", tr("abbrechen oder schließen")),
            ("Alt+W", tr("wiederhergestellten Entwurf verwerfen")),
            ("F5", tr("drucken (nach dem Abschluss)")), ("Ctrl+P", tr("Druckvorschau")),
            ("F1", tr("diese Hilfe")), ("Ctrl+L", tr("Bildschirm sperren")),
            ("Ctrl+Q", tr("Programm beenden"))]


def keys_in_view(window: MainWindow, screen: QWidget) -> list[tuple[str, str]]:
    """(key, what it does) for `screen`: a dialog's own keys, or the window's key table."""
    if screen is not window:
        return dialog_keys()
    return [(entry.key, entry.text()) for entry in granted_keys(window)]


class HelpDialog(QDialog):
    """The keys in a table and the screen's sentences; Enter or Esc closes it."""

    def __init__(self, window: MainWindow, screen: QWidget) -> None:
        super().__init__(screen)
        self.setObjectName("helpDialog")
        title = screen.windowTitle() or window.windowTitle()
        self.setWindowTitle(tr("Hilfe – {screen}").format(screen=title))
        self.setAccessibleName(self.windowTitle())
        self.keys = keys_in_view(window, screen)
        self.text = screen_help(screen)
        intro = QLabel(self.text)
        intro.setObjectName("helpText")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        rows = "".join(f"<tr><td style='padding:2px 16px 2px 0'><b>{escape(key_name(k))}</b>"
                       f"</td><td>{escape(what)}</td></tr>" for k, what in self.keys)
        table = QLabel(f"<table>{rows}</table>")
        table.setObjectName("helpKeys")
        table.setTextFormat(Qt.TextFormat.RichText)
        table.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        table.setAccessibleName(tr("Tasten"))
        scroll = QScrollArea()
        scroll.setWidget(table)
        scroll.setWidgetResizable(True)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText(tr("Schließen (Esc)"))
        close.setDefault(True)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        heading = QLabel(tr("Tasten"))
        heading.setStyleSheet("font-weight: bold;")
        layout.addWidget(heading)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(560, 520)
        close.setFocus()


def belongs_to(window: QWidget, widget: QWidget) -> bool:
    """`widget` is `window` or one of its dialogs (children, though windows of their own:
    `isAncestorOf` stops at a window's edge)."""
    current: QWidget | None = widget
    while current is not None:
        if current is window:
            return True
        current = current.parentWidget()
    return False


def screen_in_view(window: MainWindow) -> QWidget:
    """The window's dialog the clerk works in (the active one), else the window."""
    active = QApplication.activeModalWidget() or QApplication.activeWindow()
    while active is not None and not isinstance(active, QDialog):
        active = active.parentWidget()
    if isinstance(active, HelpDialog):
        return active.parentWidget() or window
    if isinstance(active, QDialog) and belongs_to(window, active):
        return active
    return window


class DialogKeys(QObject):
    """F1 and Ctrl+Q in the window's dialogs (an application event filter: the window's own
    actions do not reach into a dialog, which is a window of its own)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        window = self.window
        if window.screen_lock.locked or not isinstance(watched, QWidget):
            return False
        dialog = watched.window()
        if dialog is window or not isinstance(dialog, QDialog) or \
                not belongs_to(window, dialog) or isinstance(dialog, HelpDialog):
            return False
        key, modifiers = event.key(), event.modifiers()
        if key == Qt.Key.Key_F1 and modifiers == Qt.KeyboardModifier.NoModifier:
            window.show_help()
            return True
        if key == Qt.Key.Key_Q and modifiers == Qt.KeyboardModifier.ControlModifier:
            window.request_quit()
            return True
        return False

    def stop(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
