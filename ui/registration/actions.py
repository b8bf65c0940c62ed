"""F2 Anmeldung, F3 Ummeldung, F4 Abmeldung in the main window.

`install(window)` adds the three function keys to the window's tool bar (through
`MainWindow.add_function_action`, so the buttons show the keys: "F2 Anmeldung") ahead of the
other services. Ummeldung and Abmeldung are for the person open in the window and the
household members; without an open person the status line says what to do. An ID card scanned
without a match in the register (`new_person_requested`) is offered for the Anmeldung: F2 then
opens it with the card's data filled in.

One service dialog at a time (the window's `service_dialog`). When a registration completed,
the window shows the registered person (for an Anmeldung the first new person, otherwise the
open person read again), runs its search again and tells the others through
`service_completed` (`MainWindow.after_service`); when the dialog closes the cursor is back
in the search field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction

from clerk_app.id_scan import NewPersonPrefill
from clerk_app.services.base import ServiceResult
from ui.i18n import tr
from ui.registration.anmeldung import AnmeldungDialog
from ui.registration.common import PersonRef
from ui.registration.dialog import RegistrationDialog
from ui.registration.moves import AbmeldungDialog, UmmeldungDialog

if TYPE_CHECKING:   # the window installs these in its constructor: no import cycle
    from ui.main_window import MainWindow

STATUS_MS = 10_000


def install(window: MainWindow) -> None:
    """Add the registration keys and tool-bar buttons to `window` (once)."""
    if window.findChild(RegistrationActions) is None:
        RegistrationActions(window)


class RegistrationActions(QObject):
    """The three actions and the registration dialog currently open (at most one)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("registrationActions")
        self.window = window
        self.dialog: RegistrationDialog | None = None
        self.anmeldung = self._add("F2", tr("Anmeldung"), self.open_anmeldung,
                                   tr("Anmeldung: Zuzug einer oder mehrerer Personen"))
        self.ummeldung = self._add("F3", tr("Ummeldung"), self.open_ummeldung,
                                   tr("Ummeldung: Umzug der geöffneten Person und ihres "
                                      "Haushalts innerhalb der Stadt"))
        self.abmeldung = self._add("F4", tr("Abmeldung"), self.open_abmeldung,
                                   tr("Abmeldung: Wegzug ins Ausland oder Aufgabe einer "
                                      "Nebenwohnung"))
        self._move_to_front([self.anmeldung, self.ummeldung, self.abmeldung])
        window.new_person_requested.connect(self._on_scan_without_match)

    def _add(self, key: str, text: str, slot: Callable[[], None], tip: str) -> QAction:
        # Always enabled (not needs_person): F3/F4 without a person say what to do.
        action = self.window.add_function_action(key, text, lambda _checked=False: slot())
        action.setStatusTip(tip)
        return action

    def _move_to_front(self, actions: list[QAction]) -> None:
        """F2–F4 first on the tool bar, in key order, with a separator to the rest."""
        toolbar = self.window.toolbar
        others = [a for a in toolbar.actions() if a not in actions]
        if not others:
            return
        names = {}
        for action in actions:
            button = toolbar.widgetForAction(action)
            names[action] = button.accessibleName() if button is not None else action.text()
            toolbar.removeAction(action)
        for action in actions:
            toolbar.insertAction(others[0], action)
            button = toolbar.widgetForAction(action)
            if button is not None:
                button.setAccessibleName(names[action])
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        toolbar.insertSeparator(others[0])

    # Opening

    def open_anmeldung(self) -> None:
        if self.window.raise_service_dialog():
            return
        record = self.window.person_view.record
        hit = self.window.selected_hit()
        candidate = (PersonRef.of_record(record) if record is not None
                     else PersonRef.of_hit(hit) if hit is not None else None)
        prefill = self.window.scan_prefill
        # A scanned card is the citizen at the counter: no older draft over its data.
        self._show(AnmeldungDialog(self.window.db, candidate=candidate, prefill=prefill,
                                   parent=self.window), restore=prefill is None)

    def open_ummeldung(self) -> None:
        if self.window.raise_service_dialog():
            return
        record = self.window.person_view.record
        if record is None:
            self._say(tr("Ummeldung: Bitte zuerst die Person suchen und mit Enter öffnen."))
            return
        self._show(UmmeldungDialog(self.window.db, record, parent=self.window))

    def open_abmeldung(self) -> None:
        if self.window.raise_service_dialog():
            return
        record = self.window.person_view.record
        if record is None:
            self._say(tr("Abmeldung: Bitte zuerst die Person suchen und mit Enter öffnen."))
            return
        self._show(AbmeldungDialog(self.window.db, record, parent=self.window))

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, STATUS_MS)

    def _on_scan_without_match(self, prefill: object) -> None:
        if isinstance(prefill, NewPersonPrefill):
            self._say(tr("Keine Person zum Ausweis im Melderegister – F2 öffnet die Anmeldung "
                         "mit den gelesenen Daten. {hint}").format(hint=prefill.hint_de))

    # The dialog's life

    def _show(self, dialog: RegistrationDialog, *, restore: bool = True) -> None:
        self.dialog = dialog
        dialog.start_drafts(self.window.db, restore=restore)
        self.window.service_dialog = dialog
        dialog.completed.connect(lambda result: self._on_completed(dialog, result))
        dialog.finished.connect(lambda _code: self._on_finished(dialog))
        dialog.open()

    def _on_completed(self, dialog: RegistrationDialog, result: object) -> None:
        """Show the registered person behind the dialog at once, with the hits searched
        again; tell the others."""
        assert isinstance(result, ServiceResult)
        record = getattr(dialog, "record", None)
        if record is not None and record.id in result.changed_persons:
            person_id: str | None = record.id
        else:
            person_id = result.changed_persons[0] if result.changed_persons else None
        self.window.after_service(result, person_id)

    def _on_finished(self, dialog: RegistrationDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        if self.window.service_dialog is dialog:
            self.window.service_dialog = None
        dialog.deleteLater()
        self.window.activateWindow()
        self.window.focus_search(select=dialog.service_result is None)
