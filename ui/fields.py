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

Colours and the dialogs' stylesheet are in `ui.style`, the dialog frame in `ui.form_dialog`.

One piece of ~550 lines: the field widgets, `FieldBox` and `Form` share one contract (a
widget's value, its own problem, an error shown in place) that is easiest to read in one room.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import (
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from clerk_app.fees import parse_cents
from clerk_app.parsing import country_code, country_table, is_date_shaped, parse_date_input
from ui.draft_keeper import connect_edits
from ui.formatting import fmt_date
from ui.i18n import tr
from ui.style import (
    COLUMN_MIN_WIDTH,
    COLUMNS,
    ERROR_RED,
    MUTED,
    REQUIRED_MARK,
    notice_css,
)

# --- length limits ---------------------------------------------------------------------------

_LIMIT = "clerk_max_length"


def limit_length(edit: QLineEdit, limit: int) -> QLineEdit:
    """Mark the longest text the register takes for this field.

    Not `setMaxLength`: Qt cuts a longer paste silently, so a 5,000-character name was cut to
    200 and accepted. Here the text stays as pasted and the field (`length_problem`, run by
    its `FieldBox`) says how long it may be; the core refuses it too.
    """
    edit.setProperty(_LIMIT, limit)
    return edit


def length_problem(widget: QWidget) -> str | None:
    """'Zu lang …' naming the limit, for a field marked by `limit_length`."""
    limit = widget.property(_LIMIT) if isinstance(widget, QLineEdit) else None
    length = len(widget.text().strip()) if isinstance(widget, QLineEdit) else 0
    if not isinstance(limit, int) or length <= limit:
        return None
    return tr("Zu lang: {length} Zeichen, höchstens {limit} Zeichen möglich.").format(
        length=length, limit=limit)


# --- dates -----------------------------------------------------------------------------------

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
        if is_date_shaped(self.text()):   # "31.02.2020": well typed, but no such day
            return tr("Diesen Tag gibt es nicht ({text}) – bitte das Datum prüfen.").format(
                text=self.text().strip())
        return tr("Kein gültiges Datum – bitte TT.MM.JJJJ eingeben (z. B. 12.08.1964).")

    def _tidy(self) -> None:
        day = self.date()
        if day is not None and self.text() != fmt_date(day):
            self.setText(fmt_date(day))


# --- amounts ---------------------------------------------------------------------------------

class AmountEdit(QLineEdit):
    """A euro amount as a clerk types it ('10', '7,50', '1.234,50'), right-aligned, sized for
    `width_text` ("": as wide as its place). `cents()` is the amount or None; `problem()`
    names text that is no amount with `example` (empty is for the caller to judge)."""

    def __init__(self, example: str, width_text: str = "0000,00",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._example = example
        self.setMaxLength(16)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        if width_text:
            self.setFixedWidth(self.fontMetrics().horizontalAdvance(width_text) + 28)

    def cents(self) -> int | None:
        try:
            return parse_cents(self.text())
        except ValueError:
            return None

    def problem(self) -> str | None:
        text = self.text().strip()
        if text and self.cents() is None:
            return tr("„{text}“ ist kein Betrag – bitte z. B. {example} eingeben.").format(
                text=text, example=self._example)
        return None


# --- countries -------------------------------------------------------------------------------

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


def target_name(target: ErrorTarget) -> str:
    """The field's name as the clerk reads it on screen ("" for an error line without one)."""
    name = getattr(target, "name", "")
    return name if isinstance(name, str) else ""


def target_area(target: ErrorTarget) -> QWidget:
    """What must be in view for the clerk to see the problem: the field with its message."""
    return target if isinstance(target, QWidget) else target.focus_widget()


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

    @property
    def name(self) -> str:
        """The field's name as shown (its label, or a check box's own text)."""
        name = self._text or (self.widget.text() if isinstance(self.widget, QAbstractButton)
                              else "")
        return name.replace("&", "")

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

    def add_below(self, widget: QWidget) -> None:
        """Place `widget` under the error line (an offer to fix the field, say)."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.count() - 1, widget, 0, Qt.AlignmentFlag.AlignLeft)

    def set_hint(self, text: str) -> None:
        self.hint_label.setText(text)
        self.hint_label.setVisible(bool(text))

    def run_checks(self) -> str | None:
        """Run the field's own checks now; show (and return) the first complaint."""
        own = getattr(self.widget, "problem", None)
        checks = [lambda: length_problem(self.widget), *([own] if callable(own) else []),
                  *self._checks]
        for check in checks:
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

    def targets_with_error(self) -> list[ErrorTarget]:
        """Every target showing an error, in visual order (top to bottom, left to right)."""
        with_error = {id(t): t for t in self._targets.values() if t.error}

        def where(target: ErrorTarget) -> tuple[int, int]:
            widget = target.focus_widget()
            top = widget.window()
            if not widget.isVisible():
                return (1 << 30, 0)
            point = widget.mapTo(top, QPoint(0, 0))
            return (point.y(), point.x())

        return sorted(with_error.values(), key=where)

    def first_error(self) -> ErrorTarget | None:
        """The first target with an error in visual order."""
        targets = self.targets_with_error()
        return targets[0] if targets else None

    def error_summary(self) -> list[str]:
        """One line per problem shown, in visual order: "Field: message"."""
        lines = []
        for target in self.targets_with_error():
            name = target_name(target)
            lines.append(f"{name}: {target.error}" if name else target.error)
        return lines

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
    frame.setStyleSheet(notice_css("noticeFrame"))
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


