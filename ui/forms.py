"""Building blocks for the counter's service dialogs: one screen, keyboard first, errors in place.

Every service dialog (registration, certificates, payment, cash) is built from the same parts,
so that they all behave alike for the clerk:

* `FieldBox` – one field: its label (required fields end in " *"), the input widget, a muted
  hint line (e.g. the postal code found for a house number) and an error line in red with a
  ⚠ sign (never colour alone). The widget's accessible name is the label, with
  "(Pflichtangabe)" for required fields; an error is also set as its accessible description.
* `Form` – the dialog's fields keyed by the core's field paths ("persons.0.family_name",
  "address.house_number", "landlord.presented"): `show_errors(FormError.errors)` puts each
  message next to its field (a path without a field of its own goes to the nearest registered
  parent path, e.g. "landlord" for "landlord.persons"), returns the rest for the dialog's
  banner, and `focus_first_error()` moves the cursor to the first field with an error in
  visual order. `is_dirty()` tells whether anything differs from what the dialog started
  with, which is what "never lose typed work" asks before closing.
* `DateEdit` – a German date field: TT.MM.JJJJ, also "12.8.64", "12081964", ISO; shows the
  date as TT.MM.JJJJ once the field is left and says so in place if it is not a date.
* `CountryEdit`, `ChoiceBox` – ISO country codes (typed as code or German name) with the
  name as a hint; a combo box over a code -> label table with "bitte wählen".
* `FormSection` – a titled group with a grid of FieldBoxes (`COLUMNS` equal columns that
  line up from section to section; `place_in_grid`/`equal_columns` for a grid of one's own).
* `ErrorSlot` – an error line without a field (a section's or a list row's message);
  `remap_indexed_paths` turns the core's list positions ("persons.1.…") into stable row keys
  when only some rows were sent; `notice_frame` – notices in an amber box (a late
  registration).
* `FormDialog` – the dialog frame: title, key legend, banner for errors without a field,
  the form in a scroll area, a result page, and the keys: Tab/Shift+Tab through the fields
  in visual order (`input_chain`), Enter = next field and, in the last field, submit;
  Ctrl+Enter submits from anywhere; Esc closes, but asks first if anything was typed; while
  a submit is running nothing closes or submits twice.

Subclasses implement `submit()` and `input_chain()` and call `refresh_tab_order()` whenever
fields appear or disappear. Core calls go through the window's `DbWorker` (a service through
`ui.service_call.run_service_call`); a `FormError` is turned into `show_form_errors(errors)`,
any other failure into `show_banner(message)` (`on_service_errors`/`on_service_failed` do
that for a submit, and drop answers that come after the dialog closed). The form stays filled
in either case. On success, fill `result_layout` and call `show_result_page()`.
`confirm_discard` (a function) is the question asked before typed data is thrown away; tests
replace it. See `ui/registration_dialogs.py` for dialogs built this way.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import (
    QFont,
    QHideEvent,
    QKeyEvent,
    QKeySequence,
    QPaintEvent,
    QPalette,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from ui.draft_keeper import DraftKeeper, connect_edits, set_widget_state, widget_state
from ui.formatting import fmt_date
from ui.i18n import message_text, tr

if TYPE_CHECKING:
    from ui.db_worker import DbWorker

ERROR_RED = "#b00020"
MUTED = "#505050"
NOTICE_BACKGROUND = "#fff4d6"
NOTICE_BORDER = "#8a6d00"
OK_GREEN = "#1b7f3b"
REQUIRED_MARK = "*"
COLUMNS = 5
COLUMN_MIN_WIDTH = 120

# Stylesheet of every FormDialog: a field with an error gets a red frame (the message and
# its ⚠ sign say it in words too).
DIALOG_CSS = f"""
QLineEdit[invalid="true"], QComboBox[invalid="true"] {{
    border: 2px solid {ERROR_RED}; border-radius: 3px; padding: 1px 3px; }}
QGroupBox {{ font-weight: bold; margin-top: 10px; padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; }}
QGroupBox QLabel, QGroupBox QCheckBox, QGroupBox QRadioButton, QGroupBox QPushButton,
QGroupBox QListWidget {{ font-weight: normal; }}
"""


# --- dates -----------------------------------------------------------------------------------

_DOTTED_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})")
_DIGITS_RE = re.compile(r"(\d{2})(\d{2})(\d{2}|\d{4})")
_ISO_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_date_input(text: str, today: date, *, future_years: int = 10) -> date | None:
    """A date as clerks type it: '12.08.1964', '12.8.64', '12081964', '120864', '1964-08-12'.

    A two-digit year is the latest year ending in it that is at most `future_years` after
    today ('64' -> 1964; '26' -> 2026; with future_years=0 '30' -> 1930, right for birth dates).
    None if the text is no date or the date does not exist (31.02.).
    """
    text = text.strip()
    match = _DOTTED_RE.fullmatch(text) or _DIGITS_RE.fullmatch(text)
    if match:
        day, month, year_text = int(match[1]), int(match[2]), match[3]
    else:
        match = _ISO_RE.fullmatch(text)
        if not match:
            return None
        year_text, month, day = match[1], int(match[2]), int(match[3])
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000
        if year > today.year + future_years:
            year -= 100
    try:
        return date(year, month, day)
    except ValueError:
        return None


class DateEdit(QLineEdit):
    """A German date field. `date()` is the date or None; `form_value()` what goes to the core:
    ISO for a date, "" for an empty field, the text as typed otherwise (the core names it)."""

    def __init__(self, today: date | None = None, *, future_years: int = 10,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._today = today or date.today()
        self._future_years = future_years
        self.setPlaceholderText(tr("TT.MM.JJJJ"))
        self.setMaxLength(20)
        self.editingFinished.connect(self._tidy)

    def date(self) -> datetime.date | None:
        return parse_date_input(self.text(), self._today, future_years=self._future_years)

    def set_date(self, day: datetime.date | None) -> None:
        self.setText(fmt_date(day) if day else "")

    def is_blank(self) -> bool:
        return not self.text().strip()

    def form_value(self) -> str:
        day = self.date()
        return day.isoformat() if day else self.text().strip()

    def problem(self) -> str | None:
        """The field's own complaint: not a date (empty is for the caller to judge)."""
        if self.is_blank() or self.date() is not None:
            return None
        return tr("Kein gültiges Datum – bitte TT.MM.JJJJ eingeben (z. B. 12.08.1964).")

    def _tidy(self) -> None:
        day = self.date()
        if day is not None and self.text() != fmt_date(day):
            self.setText(fmt_date(day))


# --- countries -------------------------------------------------------------------------------

@cache
def country_table() -> tuple[tuple[str, str], ...]:
    """(ISO alpha-3 code, German name) of every country the core accepts, by name."""
    from clerk_app.persons import country_name_de

    codes = ("".join(p) for p in itertools.product(string.ascii_uppercase, repeat=3))
    found = [(code, name) for code in codes if (name := country_name_de(code))]
    return tuple(sorted(found, key=lambda item: item[1].casefold()))


def country_code(text: str) -> str | None:
    """The ISO alpha-3 code a clerk means: 'che' or 'CHE' (a code), 'Schweiz' (the German
    name), 'Österr' (the start of exactly one name, at least three letters); None otherwise."""
    text = text.strip()
    if not text:
        return None
    table = dict(country_table())
    if text.upper() in table:
        return text.upper()
    wanted = text.casefold()
    exact = [code for code, name in table.items() if name.casefold() == wanted]
    if exact:
        return exact[0]
    starts = [code for code, name in table.items() if name.casefold().startswith(wanted)]
    return starts[0] if len(wanted) >= 3 and len(starts) == 1 else None


class CountryEdit(QLineEdit):
    """A state as ISO 3166-1 alpha-3 code: typed as the code ('che') or by its German name
    ('Schweiz', 'Österr'); the field shows the code once left, the name stands under it as the
    hint. No pop-up list: three letters and Tab is the whole entry."""

    def __init__(self, default: str = "", parent: QWidget | None = None) -> None:
        super().__init__(default, parent)
        self.setPlaceholderText(tr("ISO-Code oder Name, z. B. CHE"))
        self.setMaxLength(60)
        self.editingFinished.connect(self._tidy)

    def code(self) -> str | None:
        return country_code(self.text())

    def form_value(self) -> str:
        return self.code() or self.text().strip()

    def hint(self) -> str:
        code = self.code()
        return dict(country_table()).get(code, "") if code else ""

    def problem(self) -> str | None:
        if not self.text().strip() or self.code():
            return None
        return tr("Unbekannter Staat – bitte den ISO-Code (z. B. CHE für die Schweiz) oder "
                  "den deutschen Namen eingeben.")

    def _tidy(self) -> None:
        code = self.code()
        if code and self.text() != code:
            self.setText(code)


# --- choices ---------------------------------------------------------------------------------

class ChoiceBox(QComboBox):
    """A choice among codes shown by their labels; starts at "bitte wählen" unless `default`.

    Typing the first letters selects an entry, as in any combo box. A label longer than the
    box ("keine öffentlich-rechtliche Religionsgesellschaft") ends in "…" rather than being cut
    off, and the whole label is the tooltip.
    """

    def __init__(self, choices: Mapping[str, str], default: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(tr("bitte wählen"))
        for code, label in choices.items():
            self.addItem(label, code)
        self.currentIndexChanged.connect(lambda _i: self.setToolTip(self.currentText()))
        self.set_value(default)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        if self.currentIndex() < 0:
            option.palette.setBrush(QPalette.ColorRole.ButtonText,
                                    option.palette.placeholderText())
            option.currentText = self.placeholderText()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, max(field.width() - 4, 0))
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def value(self) -> str | None:
        code = self.currentData()
        return str(code) if code is not None and self.currentIndex() >= 0 else None

    def set_value(self, code: str | None) -> None:
        self.setCurrentIndex(self.findData(code) if code is not None else -1)


# --- one field -------------------------------------------------------------------------------

class ErrorLabel(QLabel):
    """A message in red with a ⚠ sign; hidden while empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setStyleSheet(f"color: {ERROR_RED}; font-weight: bold;")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.setAccessibleName(tr("Fehlermeldung"))
        self._message = ""
        self.hide()

    @property
    def message(self) -> str:
        return self._message

    def show_message(self, message: str) -> None:
        self._message = message
        self.setText("⚠ " + message if message else "")
        self.setAccessibleDescription(message)
        self.setVisible(bool(message))


class ErrorTarget(Protocol):
    """Where `Form` can put a message for a field path."""

    @property
    def error(self) -> str: ...

    def set_error(self, message: str) -> None: ...

    def focus_widget(self) -> QWidget: ...


def widget_value(widget: QWidget) -> object:
    """What a widget holds, for telling whether the clerk changed it."""
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QComboBox):
        return widget.currentIndex()
    if isinstance(widget, QAbstractButton):
        return widget.isChecked()
    return None


Check = Callable[[], str | None]


class FieldBox(QWidget):
    """Label above, widget, hint and error line below: one field of a form.

    `checks` run when the clerk leaves the field (or changes a choice) and put their first
    complaint on the error line; `hint` (a function) fills the muted line under the field.
    A widget that knows its own complaint (`DateEdit.problem`, `CountryEdit.problem`) is
    checked first. `label=None` for a check box or radio group that names itself.
    `beside` is shown right of the widget (the change next to the amount given).
    """

    def __init__(self, path: str, label: str | None, widget: QWidget, *,
                 required: bool = False, checks: Sequence[Check] = (),
                 hint: Callable[[], str] | None = None,
                 value: Callable[[], object] | None = None,
                 beside: QWidget | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.widget = widget
        self._text = label or ""
        self._required = required
        self._checks = list(checks)
        self._hint_fn = hint
        self._value_fn = value
        self._initial: object = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.label: QLabel | None = None
        if label is not None:
            self.label = QLabel()
            self.label.setBuddy(widget)
            self.label.setWordWrap(True)   # a narrow column wraps a long label, never cuts it
            layout.addWidget(self.label)
        if beside is None:
            layout.addWidget(widget)
        else:   # e.g. the change shown right of the amount given
            row = QHBoxLayout()
            row.setSpacing(12)
            row.addWidget(widget)
            row.addWidget(beside, 1)
            layout.addLayout(row)
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        self.hint_label.setTextFormat(Qt.TextFormat.PlainText)
        self.hint_label.setStyleSheet(f"color: {MUTED};")
        self.hint_label.hide()
        layout.addWidget(self.hint_label)
        self.error_label = ErrorLabel()
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self._apply_label()
        self._connect_checks()
        self.mark_clean()

    # What the form reads

    @property
    def required(self) -> bool:
        return self._required

    def set_required(self, required: bool) -> None:
        self._required = required
        self._apply_label()

    def set_label(self, label: str) -> None:
        """Rename the field (e.g. "Sterbedatum" once a death certificate is chosen)."""
        self._text = label
        self._apply_label()

    @property
    def error(self) -> str:
        return self.error_label.message

    def value(self) -> object:
        return self._value_fn() if self._value_fn else widget_value(self.widget)

    def changed(self) -> bool:
        return self.value() != self._initial

    def mark_clean(self) -> None:
        self._initial = self.value()

    def focus_widget(self) -> QWidget:
        proxy = self.widget.focusProxy()
        return proxy if proxy is not None else self.widget

    # Messages

    def set_error(self, message: str) -> None:
        self.error_label.show_message(message)
        self.widget.setProperty("invalid", bool(message))
        self.widget.style().unpolish(self.widget)
        self.widget.style().polish(self.widget)
        self.widget.setAccessibleDescription(message)

    def set_hint(self, text: str) -> None:
        self.hint_label.setText(text)
        self.hint_label.setVisible(bool(text))

    def run_checks(self) -> str | None:
        """Run the field's own checks now; show (and return) the first complaint."""
        own = getattr(self.widget, "problem", None)
        for check in ([own] if callable(own) else []) + self._checks:
            problem = check()
            if problem:
                self.set_error(problem)
                self._refresh_hint()
                return str(problem)
        self.set_error("")
        self._refresh_hint()
        return None

    def _refresh_hint(self) -> None:
        if self._hint_fn is not None:
            self.set_hint(self._hint_fn())

    def _apply_label(self) -> None:
        name = self._text or (self.widget.text() if isinstance(self.widget, QAbstractButton)
                              else "")
        if self.label is not None:
            self.label.setText(f"{self._text} {REQUIRED_MARK}" if self._required
                               else self._text)
        spoken = name.replace("&", "")
        if self._required:
            spoken = tr("{name} (Pflichtangabe)").format(name=spoken)
        self.widget.setAccessibleName(spoken)

    def _connect_checks(self) -> None:
        w = self.widget
        if isinstance(w, QLineEdit):
            w.editingFinished.connect(self.run_checks)
        elif isinstance(w, QComboBox):
            w.currentIndexChanged.connect(lambda _i: self.run_checks())
        elif isinstance(w, QAbstractButton):
            w.toggled.connect(lambda _on: self.run_checks())


class ErrorSlot:
    """An error line without a field of its own (a section's or a list row's message)."""

    def __init__(self, label: ErrorLabel, focus: QWidget) -> None:
        self.label = label
        self._focus = focus

    @property
    def error(self) -> str:
        return self.label.message

    def set_error(self, message: str) -> None:
        self.label.show_message(message)

    def focus_widget(self) -> QWidget:
        return self._focus

    def set_focus_widget(self, widget: QWidget) -> None:
        self._focus = widget


# --- the form --------------------------------------------------------------------------------

class Form(QObject):
    """The fields of one dialog, keyed by the core's field paths."""

    edited = Signal()   # the value of a registered field changed (drafts autosave on it)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._targets: dict[str, ErrorTarget] = {}
        self._boxes: list[FieldBox] = []
        self.extra_dirty: Callable[[], bool] = lambda: False

    def add(self, box: FieldBox, *aliases: str) -> FieldBox:
        """Register a field under its path (and further paths whose errors it shows)."""
        self._targets[box.path] = box
        for alias in aliases:
            self._targets[alias] = box
        self._boxes.append(box)
        connect_edits(box.widget, self.edited.emit)
        return box

    def add_target(self, path: str, target: ErrorTarget) -> None:
        self._targets[path] = target

    def remove_prefix(self, prefix: str) -> None:
        """Forget every field under `prefix` (a removed person's section)."""
        for path in [p for p in self._targets if p == prefix.rstrip(".") or p.startswith(prefix)]:
            del self._targets[path]
        self._boxes = [b for b in self._boxes if not b.path.startswith(prefix)]

    def box(self, path: str) -> FieldBox:
        target = self._targets[path]
        assert isinstance(target, FieldBox), path
        return target

    @property
    def boxes(self) -> list[FieldBox]:
        return list(self._boxes)

    def target_for(self, path: str) -> ErrorTarget | None:
        """The target of `path`, else of its nearest registered parent path."""
        parts = path.split(".")
        while parts:
            found = self._targets.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return None

    def clear_errors(self) -> None:
        for target in set(self._targets.values()):
            target.set_error("")

    def show_errors(self, errors: Mapping[str, str]) -> dict[str, str]:
        """Put each message next to its field; returns the errors no field could take."""
        unplaced: dict[str, str] = {}
        shown: dict[int, list[str]] = {}
        for path, message in errors.items():
            target = self.target_for(path)
            if target is None:
                unplaced[path] = message
                continue
            messages = shown.setdefault(id(target), [])
            if message not in messages:
                messages.append(message)
                target.set_error(" ".join(messages))
        return unplaced

    def errors(self) -> dict[str, str]:
        """The messages shown now, by path (aliases once, under their field's path)."""
        seen: set[int] = set()
        found: dict[str, str] = {}
        for path, target in self._targets.items():
            if target.error and id(target) not in seen:
                seen.add(id(target))
                found[path] = target.error
        return found

    def first_error(self) -> ErrorTarget | None:
        """The first target with an error in visual order (top to bottom, left to right)."""
        with_error = {id(t): t for t in self._targets.values() if t.error}
        if not with_error:
            return None

        def where(target: ErrorTarget) -> tuple[int, int]:
            widget = target.focus_widget()
            top = widget.window()
            if not widget.isVisible():
                return (1 << 30, 0)
            point = widget.mapTo(top, QPoint(0, 0))
            return (point.y(), point.x())

        return min(with_error.values(), key=where)

    def focus_first_error(self) -> bool:
        target = self.first_error()
        if target is None:
            return False
        widget = target.focus_widget()
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        if isinstance(widget, QLineEdit):
            widget.selectAll()
        return True

    def is_dirty(self) -> bool:
        return self.extra_dirty() or any(b.changed() for b in self._boxes)

    def mark_clean(self) -> None:
        for box in self._boxes:
            box.mark_clean()


def remap_indexed_paths(errors: Mapping[str, str], list_key: str,
                        keys: Sequence[str]) -> dict[str, str]:
    """Rename list positions in error paths to stable keys.

    A form sends only some rows of a list (the persons ticked, the persons not removed), so
    the core's "persons.1.family_name" means the second row *sent*. With `keys[i]` the stable
    key of the i-th row sent, this returns "persons.<key>.family_name"; other paths unchanged.
    """
    pattern = re.compile(rf"^{re.escape(list_key)}\.(\d+)(?=\.|$)")
    out: dict[str, str] = {}
    for path, message in errors.items():
        match = pattern.match(path)
        if match and int(match[1]) < len(keys):
            path = f"{list_key}.{keys[int(match[1])]}{path[match.end():]}"
        out[path] = message
    return out


# --- sections --------------------------------------------------------------------------------

class FormSection(QGroupBox):
    """A titled part of a form: FieldBoxes on a grid of `COLUMNS` equal columns."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setAccessibleName(title)
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(10, 8, 10, 8)
        self.outer.setSpacing(6)
        self.grid = QGridLayout()
        equal_columns(self.grid)
        self.outer.addLayout(self.grid)

    def place(self, box: QWidget, row: int, column: int, span: int = 1) -> None:
        place_in_grid(self.grid, box, row, column, span)


def equal_columns(grid: QGridLayout) -> None:
    """`COLUMNS` columns of equal width (with `place_in_grid`)."""
    grid.setHorizontalSpacing(12)
    grid.setVerticalSpacing(6)
    for column in range(COLUMNS):
        grid.setColumnStretch(column, 1)


def place_in_grid(grid: QGridLayout, box: QWidget, row: int, column: int,
                  span: int = 1) -> None:
    """Put `box` on the grid, `span` columns wide. Its own width is ignored so that the
    columns stay equal (and line up from section to section); it is never narrower than
    `COLUMN_MIN_WIDTH` per column."""
    policy = box.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    box.setSizePolicy(policy)
    box.setMinimumWidth(COLUMN_MIN_WIDTH * span)
    grid.addWidget(box, row, column, 1, span, Qt.AlignmentFlag.AlignTop)


def notice_frame(lines: Iterable[str], parent: QWidget | None = None) -> QFrame:
    """Notices for the clerk (e.g. a late registration): amber box, ⚠ and words."""
    frame = QFrame(parent)
    frame.setObjectName("noticeFrame")
    frame.setStyleSheet(f"#noticeFrame {{ background: {NOTICE_BACKGROUND}; "
                        f"border: 1px solid {NOTICE_BORDER}; border-radius: 4px; }}"
                        "#noticeFrame QLabel { color: #000; background: transparent; }")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(10, 6, 10, 6)
    texts = list(lines)
    for text in texts:
        label = QLabel("⚠ " + text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(label)
    frame.setAccessibleName(tr("Hinweise"))
    frame.setAccessibleDescription(" ".join(texts))
    return frame


# --- the dialog ------------------------------------------------------------------------------

class EnterKeyFilter(QObject):
    """Enter in `widget` (a list or table of the window) calls `action` instead: open the
    chosen hit, take the chosen receipt."""

    def __init__(self, widget: QWidget, action: Callable[[], object]) -> None:
        super().__init__(widget)
        self._action = action
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) \
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._action()
            return True
        return False


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
        self._alive = True   # answers from the worker that come after closing are dropped
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
        line.setStyleSheet(f"#draftLine {{ background: {NOTICE_BACKGROUND}; "
                           f"border: 1px solid {NOTICE_BORDER}; border-radius: 4px; }}"
                           "#draftLine QLabel { color: #000; background: transparent; }")
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
    def alive(self) -> bool:
        """Not closed yet: a worker's answer that comes later is for nobody."""
        return self._alive

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
        """The core's FormError.errors next to their fields; focus on the first one."""
        self.form.clear_errors()
        unplaced = self.form.show_errors(errors)
        if unplaced:
            self.show_banner(" ".join(dict.fromkeys(unplaced.values())))
        else:
            self.show_banner(tr("Bitte die markierten Angaben prüfen."))
        if not self.form.focus_first_error() and unplaced:
            self.submit_button.setFocus()

    def on_service_errors(self, errors: Mapping[str, str]) -> None:
        """A submit's `FormError` (`ui.service_call.run_service_call`): the submit is over,
        each message goes next to its field."""
        if not self._alive:
            return
        self.set_busy(False)
        self.show_form_errors(errors)

    def on_service_failed(self, message_de: str, message_en: str) -> None:
        """A worker call failed for another reason (the register locked, the disk full): said
        in the banner, the form kept as it is."""
        if not self._alive:
            return
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
        self._alive = False
        app = QApplication.instance()
        if isinstance(app, QApplication):
            with contextlib.suppress(RuntimeError, TypeError):
                app.focusChanged.disconnect(self._on_focus_changed)
        super().done(result)
