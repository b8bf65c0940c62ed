"""A yes-or-no question in a message box whose buttons say what they do ("Entsperren …",
"Auf „PDF“ drucken"), with names a keyboard walk and the tests can find."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def ask(parent: QWidget | None, *, name: str, icon: QMessageBox.Icon, title: str, text: str,
        yes: tuple[str, str], no: str, default_yes: bool) -> bool:
    """Show the question; True when the clerk chose the `yes` button (label, object name).
    Escape is always `no`; Enter is the default button."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName(name)
    box.setAccessibleName(title)
    box.setAccessibleDescription(text)
    yes_button = box.addButton(yes[0], QMessageBox.ButtonRole.AcceptRole)
    yes_button.setObjectName(yes[1])
    no_button = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(yes_button if default_yes else no_button)
    box.setEscapeButton(no_button)
    box.exec()
    return box.clickedButton() is yes_button
