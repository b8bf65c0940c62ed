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
