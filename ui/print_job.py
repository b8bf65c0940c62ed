"""Sending documents to a printer, and telling the clerk whether they went out.

Each document is one job named with its document number (`setDocName`), so the queue, the
print accounting and the check after the job all show what was printed. Before the first job
the CUPS queue must be accepting and enabled; after each job it must be in the queue (and
not cancelled or aborted): otherwise the clerk reads which documents did not go out, and that
F5 prints them again. Where there is no CUPS (a PDF printer in tests, other systems) the
painter's own result is all there is to go by.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PySide6.QtPrintSupport import QPrinter

from clerk_app.documents import RenderModel
from ui.i18n import tr
from ui.print_queue import FAILED_JOB_STATES, QueueState, job_state, queue_state

log = logging.getLogger(__name__)


@dataclass
class PrintOutcome:
    """What became of one F5: the numbers that went out, those that did not, and why."""

    printer: str
    sent: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    refused: QueueState | None = None

    @property
    def ok(self) -> bool:
        return not self.lost

    def message(self) -> str:
        """The clerk's line: sent, or not printed with why and the way to print again."""
        name = self.printer or tr("Standarddrucker")
        again = tr("F5 druckt erneut, Strg+P wählt einen anderen Drucker.")
        if self.refused is not None:
            why = tr("Der Drucker „{printer}“ nimmt zurzeit keine Aufträge an.") \
                if not self.refused.accepting else tr("Der Drucker „{printer}“ ist angehalten.")
            return tr("Nicht gedruckt: {why} Bitte den Drucker prüfen; {again}").format(
                why=why.format(printer=name), again=again)
        sent = tr("{n} Dokument(e) an {printer} gesendet.").format(n=len(self.sent),
                                                                    printer=name)
        if not self.lost:
            return sent
        lost = tr("Nicht gedruckt: {numbers} (der Drucker „{printer}“ hat den Auftrag nicht "
                  "angenommen). {again}").format(numbers=", ".join(self.lost), printer=name,
                                                 again=again)
        return f"{sent} {lost}" if self.sent else lost


Job = tuple[str, Callable[[QPrinter], object]]  # the job's name, and what paints it


def document_jobs(models: Sequence[RenderModel]) -> list[Job]:
    """One job per document, named with its number (painting raises RenderError if the
    printer refuses it)."""
    from ui.rendering import paint

    def painter(model: RenderModel) -> Callable[[QPrinter], object]:
        return lambda device: paint(model, device)

    return [(model.number, painter(model)) for model in models]


def send_jobs(printer: QPrinter, jobs: Sequence[Job]) -> PrintOutcome:
    """Each `(name, paint)` as its own job named `name` on `printer` (a document, a walk-in
    ticket), checked in the queue as the module docstring says."""
    queue = _queue(printer)
    outcome = PrintOutcome(queue)
    state = queue_state(queue)
    if state is not None and not state.ready:
        log.warning("print queue not ready (accepting=%s, enabled=%s, reasons=%s)",
                    state.accepting, state.enabled, state.reasons)
        outcome.refused = state
        outcome.lost = [name for name, _paint in jobs]
        return outcome
    for name, paint in jobs:
        since = time.time()
        printer.setDocName(name)
        paint(printer)
        _record(outcome, name, since, checked=state is not None)
    return outcome


def check_jobs(printer: QPrinter, models: Sequence[RenderModel], since: float) -> PrintOutcome:
    """After the preview dialog printed: which of `models` reached the queue since `since`."""
    queue = _queue(printer)
    checked = queue_state(queue) is not None
    outcome = PrintOutcome(queue)
    for model in models:
        _record(outcome, model.number, since, checked=checked)
    return outcome


def _queue(printer: QPrinter) -> str:
    """The CUPS queue `printer` prints to ("" for a PDF file)."""
    native = printer.outputFormat() == QPrinter.OutputFormat.NativeFormat
    return printer.printerName() if native else ""


def _record(outcome: PrintOutcome, number: str, since: float, *, checked: bool) -> None:
    job = job_state(outcome.printer, number, since) if checked else None
    if checked and (job is None or job in FAILED_JOB_STATES):
        log.error("print job did not reach the queue or failed there (state %s)", job)
        outcome.lost.append(number)
    else:
        outcome.sent.append(number)
