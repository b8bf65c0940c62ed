"""The service dialogs' colours (errors, hints, notices, success), grid columns and stylesheet.

One place, so that a red error, an amber notice and a green success look the same in every
dialog and in the main window.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

ERROR_RED = "#b00020"
MUTED = "#505050"
NOTICE_BACKGROUND = "#fff4d6"
NOTICE_BORDER = "#8a6d00"
OK_GREEN = "#1b7f3b"
REQUIRED_MARK = "*"
COLUMNS = 5
COLUMN_MIN_WIDTH = 120

FOCUS_BLUE = "#0050c8"
FOCUS_BACKGROUND = "#e6efff"

# The focus mark of every widget kind that takes the keyboard: a keyboard-first clerk must
# always see where typing goes (Qt's own styles show none on some, e.g. a radio button under
# Fusion). Set on the application, the main window and every service dialog. A push button is
# styled in both states, so that the focus frame never changes its size (and cuts its text).
FOCUS_CSS = f"""
QLineEdit:focus, QComboBox:focus, QAbstractSpinBox:focus, QPlainTextEdit:focus,
QTextEdit:focus {{
    border: 2px solid {FOCUS_BLUE}; border-radius: 3px; padding: 1px 3px; }}
QAbstractItemView:focus {{ border: 2px solid {FOCUS_BLUE}; }}
QCheckBox, QRadioButton {{ border: 2px solid transparent; border-radius: 3px; padding: 1px 3px; }}
QCheckBox:focus, QRadioButton:focus {{
    border-color: {FOCUS_BLUE}; background: {FOCUS_BACKGROUND}; }}
QPushButton {{ border: 1px solid #8a8a8a; border-radius: 4px; padding: 4px 11px;
    background: #f6f6f6; color: #000; }}
QPushButton:default {{ border-color: #505050; }}
QPushButton:flat {{ border: none; background: transparent; }}
QPushButton:pressed {{ background: #d8d8d8; }}
QPushButton:disabled {{ color: #8a8a8a; border-color: #c0c0c0; }}
QPushButton:focus {{ border: 2px solid {FOCUS_BLUE}; padding: 3px 10px;
    background: {FOCUS_BACKGROUND}; }}
"""

# Stylesheet of every FormDialog: a field with an error gets a red frame (the message and
# its ⚠ sign say it in words too); in focus it keeps the red frame on a tinted ground.
DIALOG_CSS = FOCUS_CSS + f"""
QLineEdit[invalid="true"], QComboBox[invalid="true"] {{
    border: 2px solid {ERROR_RED}; border-radius: 3px; padding: 1px 3px; }}
QLineEdit[invalid="true"]:focus, QComboBox[invalid="true"]:focus {{
    background: #fff0f0; }}
QGroupBox {{ font-weight: bold; margin-top: 10px; padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; }}
QGroupBox QLabel, QGroupBox QCheckBox, QGroupBox QRadioButton, QGroupBox QPushButton,
QGroupBox QListWidget {{ font-weight: normal; }}
"""


def notice_css(object_name: str) -> str:
    """The amber box of a notice (a late registration, a restored draft), for the widget
    named `object_name`: black text on amber, a thin dark-amber frame."""
    return (f"#{object_name} {{ background: {NOTICE_BACKGROUND}; "
            f"border: 1px solid {NOTICE_BORDER}; border-radius: 4px; }}"
            f"#{object_name} QLabel {{ color: #000; background: transparent; }}")


def say(label: QLabel, text: str, *, problem: bool = False) -> None:
    """A dialog's message line: what happened, or (red, marked ⚠, not by colour alone) what
    was refused and what to do."""
    label.setStyleSheet(f"color: {ERROR_RED};" if problem else "")
    label.setText(f"⚠ {text}" if problem and text else text)
