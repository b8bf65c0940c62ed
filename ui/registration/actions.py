"""F2 Anmeldung, F3 Ummeldung, F4 Abmeldung in the main window.

The window makes one `RegistrationActions` and binds the three keys to it from its key table
(`ui.function_keys`); the dialogs are imported when a key is first pressed. Ummeldung and
Abmeldung are for the person open in the window and the household members; without an open
person the status line says what to do. An ID card scanned without a match in the register
(`new_person_requested`) is offered for the Anmeldung: F2 then opens it with the card's data
filled in.

One service dialog at a time (the window's `service_dialog`). When a registration completed,
the window shows the registered person (for an Anmeldung the first new person, otherwise the
open person read again), runs its search again and tells the others through
`service_completed` (`MainWindow.after_service`); when the dialog closes the cursor is back
in the search field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from ui.i18n import tr

if TYPE_CHECKING:   # the window makes this in its constructor: no import cycle
    from ui.main_window import MainWindow
    from ui.registration.dialog import RegistrationDialog

STATUS_MS = 10_000


class RegistrationActions(QObject):
    """What F2-F4 open, and the registration dialog currently open (at most one)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("registrationActions")
        self.window = window
        self.dialog: RegistrationDialog | None = None
        window.new_person_requested.connect(self._on_scan_without_match)

    # Opening

    def open_anmeldung(self) -> None:
        if self.window.raise_service_dialog():
            return
        from ui.registration.anmeldung import AnmeldungDialog
        from ui.registration.common import PersonRef

        record = self.window.person_view.record
        hit = self.window.selected_hit()
        candidate = (PersonRef.of_record(record) if record is not None
                     else PersonRef.of_hit(hit) if hit is not None else None)
        prefill = self.window.scan_prefill
        # A scanned card is the citizen at the counter: no older draft over its data.
        self._show(AnmeldungDialog(self.window.db, candidate=candidate, prefill=prefill,
                                   parent=self.window, printing=self.window.printing),
                   restore=prefill is None)

    def open_ummeldung(self) -> None:
        if self.window.raise_service_dialog():
            return
        record = self.window.person_view.record
        if record is None:
            self._say(tr("Ummeldung: Bitte zuerst die Person suchen und mit Enter öffnen."))
            return
        from ui.registration.moves import UmmeldungDialog

        self._show(UmmeldungDialog(self.window.db, record, parent=self.window,
                                   printing=self.window.printing))

    def open_abmeldung(self) -> None:
        if self.window.raise_service_dialog():
            return
        record = self.window.person_view.record
        if record is None:
            self._say(tr("Abmeldung: Bitte zuerst die Person suchen und mit Enter öffnen."))
            return
        from ui.registration.moves import AbmeldungDialog

        self._show(AbmeldungDialog(self.window.db, record, parent=self.window,
                                   printing=self.window.printing))

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, STATUS_MS)

    def _on_scan_without_match(self, prefill: object) -> None:
        from clerk_app.id_scan import NewPersonPrefill

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
        from clerk_app.services.base import ServiceResult

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
