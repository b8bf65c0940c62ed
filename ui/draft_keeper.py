"""Drafts of the service dialogs in the UI: "never lose typed work", also through a crash.

* `widget_state` / `set_widget_state` – one generic way to read and set what a form's widget
  holds (line edits, choice boxes, spin boxes, check boxes, a group of radio buttons or check
  boxes), as JSON-ready values. `FormDialog.field_values()` / `set_field_values()` use them
  over every registered field, keyed by its path.
* `DraftKeeper` – attached to a dialog by `FormDialog.start_drafts(db)`: saves the draft (in
  the encrypted register, through the window's `DbWorker`) `AUTOSAVE_MS` after the clerk
  stopped typing and when the dialog is hidden or closed without completing; deletes it when
  the clerk threw the input away (Esc, confirmed). When the dialog opens it looks for the
  newest draft of its kind (and person) of this clerk at this workstation and fills the form
  with it, keeping the draft's command id, so a draft submitted after a crash is registered
  once. The line at the top says so, with "Entwurf verwerfen (Alt+W)".
* `startup_drafts` / `drafts_status` – at start (register open): drafts older than seven days
  are removed, the status line names the keys that continue the others.

Draft contents are never logged, nor written anywhere but the register.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QWidget,
)

from clerk_app.ids import uuid7
from ui.i18n import tr
from ui.operation import Op, owner_gone

if TYPE_CHECKING:
    from clerk_app.draft_store import Draft
    from clerk_app.store.db import Store
    from ui.db_worker import DbWorker
    from ui.form_dialog import FormDialog

log = logging.getLogger(__name__)

AUTOSAVE_MS = 1500
# Which key continues a draft of a kind (the status line at start).
DRAFT_KEYS = {"anmeldung": "F2", "ummeldung": "F3", "abmeldung": "F4",
              "meldebescheinigung": "F6", "lebensbescheinigung": "F7",
              "personenstandsurkunde_antrag": "F8"}


# --- widget values ---------------------------------------------------------------------------

def _checkable_children(widget: QWidget) -> list[QAbstractButton]:
    return [b for b in widget.findChildren(QAbstractButton) if b.isCheckable()]


def widget_state(widget: QWidget) -> Any:
    """What `widget` holds, as a JSON value (None: nothing to keep)."""
    value = getattr(widget, "value", None)
    if isinstance(widget, QComboBox) and callable(value):   # a ChoiceBox: its code
        return value()
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QComboBox):
        return widget.currentIndex()
    if isinstance(widget, QAbstractSpinBox) and callable(value):
        return value()
    if isinstance(widget, QAbstractButton):
        return widget.isChecked() if widget.isCheckable() else None
    buttons = _checkable_children(widget)   # a group of radio buttons or check boxes
    return [b.isChecked() for b in buttons] if buttons else None


def set_widget_state(widget: QWidget, state: Any) -> None:
    """Set what `widget_state` read; a value of the wrong shape is ignored."""
    if isinstance(widget, QComboBox) and callable(getattr(widget, "set_value", None)):
        if state is None or isinstance(state, str):
            widget.set_value(state)   # type: ignore[attr-defined]
    elif isinstance(widget, QLineEdit):
        if isinstance(state, str):
            widget.setText(state)
    elif isinstance(widget, QComboBox):
        if isinstance(state, int) and -1 <= state < widget.count():
            widget.setCurrentIndex(state)
    elif isinstance(widget, QAbstractSpinBox):
        setter = getattr(widget, "setValue", None)
        if isinstance(state, int | float) and callable(setter):
            setter(state)
    elif isinstance(widget, QAbstractButton):
        if isinstance(state, bool) and widget.isCheckable():
            widget.setChecked(state)
    elif isinstance(state, list):
        buttons = _checkable_children(widget)
        if len(buttons) == len(state):
            # Unticked first, then ticked: in a radio group the ticked one wins.
            for button, on in sorted(zip(buttons, state, strict=True), key=lambda p: p[1]):
                button.setChecked(bool(on))


def connect_edits(widget: QWidget, slot: Callable[[], None]) -> None:
    """Call `slot` whenever the clerk changes what `widget` holds."""
    if isinstance(widget, QLineEdit):
        widget.textChanged.connect(lambda _t: slot())
    elif isinstance(widget, QComboBox):
        widget.currentIndexChanged.connect(lambda _i: slot())
    elif isinstance(widget, QAbstractSpinBox):
        signal = getattr(widget, "valueChanged", None)
        if signal is not None:
            signal.connect(lambda _v: slot())
    elif isinstance(widget, QAbstractButton):
        widget.toggled.connect(lambda _on: slot())
    else:
        for button in _checkable_children(widget):
            button.toggled.connect(lambda _on: slot())


# --- the keeper ------------------------------------------------------------------------------

def newest_draft(store: Store, kind: str, person_id: str | None) -> Draft | None:
    """The newest draft of `kind` (for `person_id`) of the store's clerk at its workstation."""
    from clerk_app.draft_store import load_drafts

    for draft in load_drafts(store, store.actor.clerk, store.actor.workstation, kind=kind):
        if draft.person_id == person_id:
            return draft
    return None


def fmt_moment(moment: datetime) -> str:
    return moment.astimezone().strftime("%d.%m.%Y %H:%M")


class DraftKeeper(QObject):
    """Saves, restores and deletes the draft of one dialog (see the module docstring)."""

    saved = Signal()       # a save was answered (for tests)
    looked_up = Signal()   # the look for a draft to restore was answered
    restored = Signal()    # the form was filled from a draft

    def __init__(self, dialog: FormDialog, db: DbWorker, kind: str, person_id: str | None,
                 *, restore: bool = True) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.db = db
        self.kind = kind
        self.person_id = person_id
        self.stored = False          # a draft of this dialog is (about to be) in the register
        self.finished = False        # completed or thrown away: nothing more to save
        self.restored_from: Draft | None = None
        self._quiet = False          # filling the form ourselves: no autosave for that
        self._initial = dialog.draft_data()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(AUTOSAVE_MS)
        self.timer.timeout.connect(self.save_now)
        dialog.form.edited.connect(self._on_edited)
        self.looking = restore
        if restore:
            Op(self, lambda store: newest_draft(store, kind, person_id), self._on_found,
               what="look for a draft").failure(self._on_lookup_failed).run(db)

    @property
    def pending(self) -> bool:
        """A save is due (the clerk typed and the pause has not passed yet)."""
        return self.timer.isActive()

    def _on_edited(self) -> None:
        if not self._quiet and not self.finished:
            self.timer.start()

    def save_now(self) -> None:
        """Save the form as it is now (or delete the draft if nothing is typed any more)."""
        self.timer.stop()
        dialog = self.dialog
        if self.finished or dialog.is_done or dialog.busy:
            return   # a submit in flight saves nothing: it either completes or comes back
        if not dialog.form.is_dirty():
            if self.stored:
                self.discard()
            return
        data = dialog.draft_data()
        kind, command_id, person_id = self.kind, dialog.command_id, self.person_id
        self.stored = True
        from clerk_app.draft_store import save_draft

        Op(self, lambda store: save_draft(store, kind, command_id, data, person_id=person_id),
           self._on_saved, what="save draft").failure(self._on_save_failed).run(self.db)

    def discard(self) -> None:
        """Delete the draft (the clerk threw the input away)."""
        self.timer.stop()
        if not self.stored:
            return
        self.stored = False
        command_id = self.dialog.command_id
        from clerk_app.draft_store import discard_draft

        Op(self, lambda store: discard_draft(store, command_id), what="discard draft").run(
            self.db)

    def finish(self, *, discard: bool) -> None:
        """The dialog is done with: completed (the service deleted the draft) or thrown away."""
        if discard:
            self.discard()
        self.timer.stop()
        self.finished = True

    def _on_saved(self, _saved: object) -> None:
        self.saved.emit()

    def _on_save_failed(self, _de: str, message_en: str) -> None:
        log.warning("draft not saved: %s", message_en)   # English, no personal data
        self.saved.emit()

    # Restoring

    def _on_lookup_failed(self, _de: str, _en: str) -> None:
        self.looking = False
        self.looked_up.emit()

    def _on_found(self, draft: Draft | None) -> None:
        self.looking = False
        dialog = self.dialog
        if draft is not None and not owner_gone(dialog) and not dialog.is_done \
                and not dialog.form.is_dirty():
            self._fill(draft.data)
            dialog.command_id = draft.command_id   # the same command: never registered twice
            self.stored = True
            self.restored_from = draft
            dialog.show_draft_line(tr("Entwurf vom {moment} wiederhergestellt").format(
                moment=fmt_moment(draft.updated_at)))
            focus = QApplication.focusWidget()
            if focus is None or not dialog.isAncestorOf(focus):
                dialog.focus_first_field()   # the section that had the cursor was rebuilt
            self.restored.emit()
        self.looked_up.emit()

    def _fill(self, data: Mapping[str, Any]) -> None:
        self._quiet = True
        try:
            self.dialog.restore_draft(data)
        finally:
            self._quiet = False

    def throw_away(self) -> None:
        """"Entwurf verwerfen": delete the restored draft and start with an empty form."""
        dialog = self.dialog
        if dialog.busy or dialog.is_done or not dialog.confirm_discard():
            return
        self.discard()
        self._fill(self._initial)
        dialog.command_id = uuid7()   # a new start is a new command
        self.restored_from = None
        dialog.hide_draft_line()
        dialog.focus_first_field()


# --- at start --------------------------------------------------------------------------------

def startup_drafts(store: Store) -> list[str]:
    """In the worker, once the register is open: drop old drafts; the kinds of the others
    (newest first) of this clerk at this workstation."""
    from clerk_app.draft_store import load_drafts, purge_old_drafts

    removed = purge_old_drafts(store)
    if removed:
        log.info("%d old drafts removed", removed)
    return [d.kind for d in load_drafts(store, store.actor.clerk, store.actor.workstation)]


def drafts_status(kinds: list[str]) -> str:
    """'2 Entwürfe gespeichert – F2/F6 setzt sie fort' ('' for none)."""
    if not kinds:
        return ""
    keys = "/".join(dict.fromkeys(DRAFT_KEYS[k] for k in kinds if k in DRAFT_KEYS))
    if len(kinds) == 1:
        return tr("1 Entwurf gespeichert – {keys} setzt ihn fort").format(keys=keys)
    return tr("{count} Entwürfe gespeichert – {keys} setzt sie fort").format(
        count=len(kinds), keys=keys)
