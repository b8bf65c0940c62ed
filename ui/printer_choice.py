"""The remembered printer against the printers there are now.

The remembered printer is a queue name saved when the clerk last chose one. Queues change:
one is deleted while others remain (then printing "elsewhere" without a word sends
certificates to a printer in another room: the clerk is asked first), or a remembered duplex
setting meets a queue without a duplexer (Qt drops it silently: the clerk is told, once per
printer, that it prints single-sided).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSettings
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo
from PySide6.QtWidgets import QMessageBox, QWidget

from ui.i18n import tr
from ui.question_box import ask

log = logging.getLogger(__name__)

DUPLEX_TOLD_KEY = "duplex_told"


def replacement_printer(remembered: str) -> str | None:
    """The printer to offer when `remembered` is gone but others exist (the system's default,
    else the first); None when `remembered` is still there, is the default (""), or there is
    no printer at all."""
    infos = QPrinterInfo.availablePrinters()
    if not remembered or not infos or any(i.printerName() == remembered for i in infos):
        return None
    default = QPrinterInfo.defaultPrinter()
    return default.printerName() if not default.isNull() else infos[0].printerName()


def ask_replacement(parent: QWidget | None, remembered: str, replacement: str) -> bool:
    """Ask whether to print on `replacement` now that `remembered` is gone (default: no)."""
    text = tr("Der gemerkte Drucker „{old}“ ist nicht mehr eingerichtet. Stattdessen auf "
              "„{new}“ drucken? (Strg+P wählt einen anderen Drucker.)").format(
                  old=remembered, new=replacement)
    return ask(parent, name="printerGone", icon=QMessageBox.Icon.Question,
               title=tr("Drucker nicht gefunden"), text=text,
               yes=(tr("Auf „{new}“ &drucken").format(new=replacement), "useReplacement"),
               no=tr("Abbrechen"), default_yes=False)


def duplex_notice(printer: QPrinter, duplex: int | None, settings_path: str,
                  group: str) -> str:
    """A line for the clerk when the remembered duplex mode is one `printer` cannot do, the
    first time only for that printer (remembered in the settings file); else ""."""
    name = printer.printerName()
    if duplex is None or duplex == QPrinter.DuplexMode.DuplexNone.value or not name:
        return ""
    supported = {_value(mode) for mode in QPrinterInfo.printerInfo(name).supportedDuplexModes()}
    if duplex in supported:
        return ""
    settings = QSettings(settings_path, QSettings.Format.IniFormat)
    settings.beginGroup(group)
    told = str(settings.value(DUPLEX_TOLD_KEY, "") or "")
    if told == name:
        return ""
    settings.setValue(DUPLEX_TOLD_KEY, name)
    settings.endGroup()
    settings.sync()
    log.info("remembered duplex mode not supported by the printer; printing single-sided")
    return tr("Hinweis: Der Drucker „{printer}“ kann nicht beidseitig drucken; es wird "
              "einseitig gedruckt.").format(printer=name)


def _value(mode: object) -> int:
    raw = getattr(mode, "value", mode)
    return int(raw) if isinstance(raw, int) else 0
