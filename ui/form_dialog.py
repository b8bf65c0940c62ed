"""The dialog frame of every counter service (`FormDialog`) and its keys.

* `FormDialog` – the dialog frame: title, key legend, banner for errors without a field,
  the form in a scroll area, a result page, and the keys: Tab/Shift+Tab through the fields
  in visual order (`input_chain`), Enter = next field and, in the last field, submit;
  Ctrl+Enter submits from anywhere; Esc closes, but asks first if anything was typed; while
  a submit is running nothing closes or submits twice.

Subclasses implement `submit()` and `input_chain()` and call `refresh_tab_order()` whenever
fields appear or disappear. Core calls are `ui.operation.Op`s owned by the dialog (a service:
`ServiceOp`), so answers that come after the dialog closed are dropped; a `FormError` is
turned into `show_form_errors(errors)`, any other failure into `show_banner(message)`
(`on_service_errors`/`on_service_failed` do that for a submit). The form stays filled in
either case. On success, fill `result_layout` and call `show_result_page()`.
`confirm_discard` (a function) is the question asked before typed data is thrown away; tests
replace it. See `ui/registration/` for dialogs built this way; the fields are in `ui.fields`.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QFont,
    QHideEvent,
    QKeyEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.draft_keeper import DraftKeeper, set_widget_state, widget_state
from ui.fields import ErrorLabel, Form, target_area
from ui.i18n import message_text, tr
from ui.style import DIALOG_CSS, MUTED, notice_css

if TYPE_CHECKING:
    from ui.db_worker import DbWorker

# --- the dialog ------------------------------------------------------------------------------

def ask_discard(parent: QWidget) -> bool:
    """Ask before typed data is thrown away; Enter and Esc keep it (the safe answer)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(tr("Eingaben verwerfen?"))
    box.setText(tr("Eingaben verwerfen?"))
    box.setInformativeText(tr("Die eingegebenen Daten gehen verloren."))
    discard = box.addButton(tr("Verwerfen"), QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton(tr("Weiter bearbeiten"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    discard.setAccessibleName(tr("Verwerfen"))
    keep.setAccessibleName(tr("Weiter bearbeiten"))
    box.exec()
    return box.clickedButton() is discard


class FormDialog(QDialog):
    """The frame of a service dialog (see the module docstring for the keys)."""

    submit_requested = Signal()
    # The scroll area around the form (an attribute, not QWidget.scroll()).
    scroll: QScrollArea  # type: ignore[assignment]
    # Drafts (`start_drafts`): the kind a dialog's drafts are kept as ("" = none), and the
    # field paths never kept in a draft (confirmations the clerk gives anew each time).
    draft_kind: ClassVar[str] = ""
    draft_excluded: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, title: str, submit_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("formDialog")
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setStyleSheet(DIALOG_CSS)
        self.form = Form(self)
        self.confirm_discard: Callable[[], bool] = lambda: ask_discard(self)
        self._busy = False
        self._done = False
        self._chain: list[QWidget] = []
        self.command_id = ""   # the service's command id (set by the subclass)
        self.drafts: DraftKeeper | None = None

        heading = QLabel(title)
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        heading.setFont(font)
        self.heading = heading
        self.legend = QLabel(tr("* Pflichtangabe · Tab: nächstes Feld · Enter im letzten Feld "
                                "oder Strg+Enter: {action} · Esc: abbrechen").format(
                                    action=submit_text))
        self.legend.setStyleSheet(f"color: {MUTED};")
        self.legend.setWordWrap(True)
        self.banner = ErrorLabel()
        self.banner.setObjectName("formBanner")
        self.banner.setAccessibleName(tr("Hinweis zum Formular"))

        content = QWidget()
        content.setObjectName("formContent")
        self.body = QVBoxLayout(content)
        self.body.setContentsMargins(0, 0, 8, 0)
        self.body.setSpacing(8)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll.setAccessibleName(tr("Formular"))

        self.result_page = QWidget()
        self.result_page.setObjectName("resultPage")
        self.result_layout = QVBoxLayout(self.result_page)
        self.result_layout.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.scroll)
        self.stack.addWidget(self.result_page)

        self.status = QLabel()
        self.status.setObjectName("formStatus")
        self.status.setAccessibleName(tr("Bearbeitungsstand"))
        self.submit_button = QPushButton(tr("{action} (Strg+Enter)").format(action=submit_text))
        self.submit_button.setObjectName("submitButton")
        self.submit_button.setAccessibleName(submit_text)
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self.request_submit)
        self.cancel_button = QPushButton(tr("Abbrechen (Esc)"))
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setAccessibleName(tr("Abbrechen"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.close_button = QPushButton(tr("Schließen (Enter)"))
        self.close_button.setObjectName("closeButton")
        self.close_button.setAccessibleName(tr("Schließen"))
        self.close_button.clicked.connect(self.accept)
        self.close_button.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.submit_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.setSpacing(6)
        self.draft_line = self._build_draft_line()
        outer.addWidget(heading)
        outer.addWidget(self.draft_line)
        outer.addWidget(self.legend)
        outer.addWidget(self.banner)
        outer.addWidget(self.stack, 1)
        outer.addLayout(buttons)

        self._shortcuts: list[QShortcut] = []
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.request_submit)
            self._shortcuts.append(shortcut)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    def _build_draft_line(self) -> QFrame:
        """"Entwurf vom … wiederhergestellt" with "Entwurf verwerfen (Alt+W)"; hidden until
        a draft filled the form."""
        line = QFrame()
        line.setObjectName("draftLine")
        line.setStyleSheet(notice_css("draftLine"))
        row = QHBoxLayout(line)
        row.setContentsMargins(10, 4, 6, 4)
        self.draft_label = QLabel()
        self.draft_label.setObjectName("draftLabel")
        self.draft_label.setTextFormat(Qt.TextFormat.PlainText)
        self.draft_label.setWordWrap(True)
        self.draft_discard_button = QPushButton(tr("Entwurf verwerfen (Alt+W)"))
        self.draft_discard_button.setObjectName("draftDiscardButton")
        self.draft_discard_button.setAccessibleName(tr("Entwurf verwerfen"))
        self.draft_discard_button.setAutoDefault(False)
        self.draft_discard_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # Alt+W, no Tab stop
        self.draft_discard_button.clicked.connect(self.discard_restored_draft)
        row.addWidget(self.draft_label, 1)
        row.addWidget(self.draft_discard_button)
        shortcut = QShortcut(QKeySequence("Alt+W"), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(self.discard_restored_draft)
        self._draft_shortcut = shortcut
        line.hide()
        return line

    # For subclasses

    def submit(self) -> None:
        """Send the form (subclasses); called by Ctrl+Enter, the button, Enter in the last
        field – never while a submit is running or after it succeeded."""
        raise NotImplementedError

    def input_chain(self) -> list[QWidget]:
        """Every focusable widget of the form in visual order (subclasses)."""
        return []

    # Drafts (see ui.draft_keeper)

    @property
    def draft_person_id(self) -> str | None:
        """The person a draft of this dialog belongs to (None: not bound to one)."""
        return None

    def field_values(self) -> dict[str, Any]:
        """Every registered field's value by path (one generic way for every dialog)."""
        values: dict[str, Any] = {}
        for box in self.form.boxes:
            if box.path in self.draft_excluded:
                continue
            state = widget_state(box.widget)
            if state is not None:
                values[box.path] = state
        return values

    def set_field_values(self, values: Mapping[str, Any]) -> None:
        """Fill the fields from `field_values()`; paths without a field are ignored."""
        for box in self.form.boxes:
            if box.path in values and box.path not in self.draft_excluded:
                set_widget_state(box.widget, values[box.path])

    def draft_data(self) -> dict[str, Any]:
        """What a draft keeps (subclasses add the shape of dynamic forms)."""
        return {"fields": self.field_values()}

    def restore_draft(self, data: Mapping[str, Any]) -> None:
        """Fill the form from `draft_data()` of an earlier dialog of the same kind."""
        fields = data.get("fields")
        if isinstance(fields, Mapping):
            self.set_field_values(fields)
        self.refresh_tab_order()

    def start_drafts(self, db: DbWorker, *, restore: bool = True) -> DraftKeeper | None:
        """Keep drafts of this dialog (autosave, save on close) and, with `restore`, fill it
        from the newest draft of its kind. Nothing for a dialog without `draft_kind`."""
        if not self.draft_kind or self.drafts is not None:
            return self.drafts
        self.drafts = DraftKeeper(self, db, self.draft_kind, self.draft_person_id,
                                  restore=restore)
        return self.drafts

    def save_draft_now(self) -> None:
        """Save the draft at once (the window closes)."""
        if self.drafts is not None:
            self.drafts.save_now()

    def show_draft_line(self, text: str) -> None:
        self.draft_label.setText(text)
        self.draft_label.setAccessibleName(text)
        self.draft_line.show()

    def hide_draft_line(self) -> None:
        self.draft_line.hide()

    def discard_restored_draft(self) -> None:
        """Alt+W / "Entwurf verwerfen": only while a restored draft is shown."""
        if self.drafts is not None and self.draft_line.isVisible():
            self.drafts.throw_away()

    def focus_first_field(self) -> None:
        usable = [w for w in self._chain if w.isVisible() and w.isEnabled()]
        if usable:
            usable[0].setFocus(Qt.FocusReason.OtherFocusReason)

    def refresh_tab_order(self) -> None:
        """Chain Tab through `input_chain()` and then the buttons, in that order."""
        self._chain = [w for w in self.input_chain() if w.focusPolicy() != Qt.FocusPolicy.NoFocus]
        order = [*self._chain, self.submit_button, self.cancel_button]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

    # State

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def is_done(self) -> bool:
        return self._done

    def set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        self.submit_button.setEnabled(not busy)
        self.status.setText(text)

    def has_unsaved_input(self) -> bool:
        return not self._done and self.form.is_dirty()

    def request_submit(self) -> None:
        if self._busy or self._done:
            return
        self.submit_requested.emit()
        self.submit()

    def show_banner(self, message: str) -> None:
        self.banner.show_message(message)

    def show_form_errors(self, errors: Mapping[str, str]) -> None:
        """The core's FormError.errors next to their fields, and every one of them named in
        the banner (a problem far down the form is read at once); focus and scroll go to the
        first one."""
        self.form.clear_errors()
        unplaced = self.form.show_errors(errors)
        lines = [*dict.fromkeys(unplaced.values()), *self.form.error_summary()]
        if len(lines) == 1:
            self.show_banner(lines[0])
        elif lines:
            self.show_banner(tr("Bitte {n} Angaben prüfen:").format(n=len(lines)) + "\n"
                             + "\n".join(f"• {line}" for line in lines))
        if self.form.focus_first_error():
            self._scroll_to_first_error()
        elif unplaced:
            self.submit_button.setFocus()

    def _scroll_to_first_error(self) -> None:
        """The first problem in view with its message, even if focus was already there
        (then Qt sends no focus change to scroll on)."""
        target = self.form.first_error()
        content = self.scroll.widget()
        if target is None or content is None:
            return
        area = target_area(target)
        if content.isAncestorOf(area):
            layout = content.layout()
            if layout is not None:
                layout.activate()   # the error lines just shown take their place first
            self.scroll.ensureWidgetVisible(area, 20, 20)

    def on_service_errors(self, errors: Mapping[str, str]) -> None:
        """A submit's `FormError` (`ui.operation.ServiceOp`): the submit is over, each
        message goes next to its field."""
        self.set_busy(False)
        self.show_form_errors(errors)

    def on_service_failed(self, message_de: str, message_en: str) -> None:
        """A worker call failed for another reason (the register locked, the disk full): said
        in the banner, the form kept as it is."""
        self.set_busy(False)
        self.show_banner(message_text(message_de, message_en))

    def show_result_page(self) -> None:
        """Switch to the result page (filled by the subclass into `result_layout`): the form
        is done, Enter or Esc close the dialog."""
        self._done = True
        if self.drafts is not None:
            self.drafts.finish(discard=False)   # the service deleted the draft with it
        self.draft_line.hide()
        self.set_busy(False)
        self.banner.show_message("")
        self.legend.setText(tr("Enter oder Esc: schließen"))
        self.stack.setCurrentWidget(self.result_page)
        self.submit_button.hide()
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setDefault(True)
        self.close_button.setFocus()

    # Keys and closing

    def reject(self) -> None:
        if self._busy:
            self.status.setText(tr("Wird gespeichert – bitte warten …"))
            return
        if self.has_unsaved_input() and not self.confirm_discard():
            return
        if self.drafts is not None and not self._done:
            self.drafts.finish(discard=True)   # thrown away on purpose (or nothing typed)
        super().reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() not in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            super().keyPressEvent(event)
            return
        event.accept()
        if self._done:
            self.accept()
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.request_submit()
            return
        focus = QApplication.focusWidget()
        usable = [w for w in self._chain if w.isVisible() and w.isEnabled()]
        last = usable[-1] if usable else None
        if focus is None or focus is last or focus is self.submit_button:
            self.request_submit()
        else:
            self.focusNextChild()

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        try:
            content = self.scroll.widget()
        except RuntimeError:   # the dialog is gone; Qt still tells the slot
            return
        if new is not None and content is not None and content.isAncestorOf(new):
            self.scroll.ensureWidgetVisible(new, 20, 20)

    def hideEvent(self, event: QHideEvent) -> None:
        """Hidden or closed without completing (not thrown away): keep the draft."""
        if self.drafts is not None:
            self.drafts.save_now()
        super().hideEvent(event)

    def done(self, result: int) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            with contextlib.suppress(RuntimeError, TypeError):
                app.focusChanged.disconnect(self._on_focus_changed)
        super().done(result)
