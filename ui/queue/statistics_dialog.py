"""Strg+Umschalt+S: the waiting room's statistics of a period, as charts and a table, and
their CSV export.

The core computes every figure (`clerk_app.queue.statistics.compute`, from the visits:
the whole office's from the centre when it answers, else this register's own; the dialog
says which. The figures never need a name, and the centre sends none); the
dialog only draws them (`ui.queue.bar_chart.BarChart`, painted with QPainter: see there why
no plotting library). The computation runs in the DB worker; the period (from, to: today and
the six days before it at first) and the location are chosen with the keyboard, Enter
computes, Strg+S saves the CSV (semicolons and decimal commas, as German spreadsheets read
it), Esc closes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clerk_app.queue.configuration import QueueConfig
from clerk_app.queue.statistics import Outcomes, QueueStatistics, compute, local_visits, to_csv
from clerk_app.queue.visits import Visit
from clerk_app.store.db import Store
from ui.db_worker import DbWorker
from ui.i18n import message_text, tr
from ui.operation import Op
from ui.queue.bar_chart import BarChart, Series
from ui.style import say

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
# The visits of a period (store, first, last, location) and whether they are the whole
# office's (from the centre) or this register's only; run in the DB worker.
VisitSource = Callable[[Store, date, date, "str | None"], tuple[list[Visit], bool]]


def served(o: Outcomes) -> int:
    return o.served_appointment + o.served_walk_in


def missed(o: Outcomes) -> int:
    return o.missed_appointment + o.missed_walk_in


class StatisticsDialog(QDialog):
    """See the module docstring."""

    def __init__(self, db: DbWorker, config: QueueConfig, parent: QWidget | None = None, *,
                 today: date | None = None, visits: VisitSource | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueStatistics")
        self.setWindowTitle(tr("Statistik der Warteschlange"))
        self.setAccessibleName(tr("Statistik der Warteschlange"))
        self.resize(1100, 780)
        self.db = db
        self.config = config
        self.stats: QueueStatistics | None = None
        self.visits = visits or this_register
        last = today or date.today()
        self.first = self._date_field("statFrom", last - timedelta(days=DEFAULT_DAYS - 1))
        self.last = self._date_field("statTo", last)
        self.location = QComboBox()
        self.location.setObjectName("statLocation")
        self.location.setAccessibleName(tr("Standort"))
        self.location.addItem(tr("alle Standorte"), "")
        for code, spec in config.locations.items():
            self.location.addItem(spec.name, code)
        self.compute_button = QPushButton(tr("Enter Berechnen"))
        self.compute_button.setObjectName("statCompute")
        self.compute_button.setDefault(True)
        self.compute_button.clicked.connect(self.refresh)
        self.save_button = QPushButton(tr("Strg+S Als CSV speichern …"))
        self.save_button.setObjectName("statSave")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.ask_save)
        QShortcut(QKeySequence.StandardKey.Save, self, self.ask_save)
        bar = QHBoxLayout()
        for caption, field in ((tr("&Von"), self.first), (tr("&Bis"), self.last),
                               (tr("&Standort"), self.location)):
            label = QLabel(caption)
            label.setBuddy(field)
            bar.addWidget(label)
            bar.addWidget(field)
        bar.addStretch(1)
        bar.addWidget(self.compute_button)
        bar.addWidget(self.save_button)

        self.scope = QLabel()
        self.scope.setObjectName("statScope")
        self.summary = QLabel()
        self.summary.setObjectName("statSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        nothing = tr("keine Besuche im Zeitraum")
        self.by_day = BarChart(tr("Besucher je Tag"), empty=nothing)
        self.waiting = BarChart(tr("Wartezeit je Stunde (Minuten)"), " min", empty=nothing)
        self.service = BarChart(tr("Bearbeitungszeit je Dienstleistung (Minuten)"), " min",
                                empty=nothing)
        self.capacity = BarChart(tr("Buchungen gegen Kapazität (Prozent)"), " %",
                                 empty=tr("keine Buchungen im Zeitraum"))
        charts = QGridLayout()
        for index, chart in enumerate((self.by_day, self.waiting, self.service, self.capacity)):
            charts.addWidget(chart, index // 2, index % 2)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("statTable")
        self.table.setAccessibleName(tr("Zahlen je Schalter und Mitarbeiter"))
        self.table.setHorizontalHeaderLabels([tr("Schalter / Mitarbeiter"), tr("bedient"),
                                              tr("nicht erschienen"), tr("storniert"),
                                              tr("Ø Wartezeit (min)")])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMaximumHeight(170)
        self.message = QLabel()
        self.message.setObjectName("statMessage")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.scope)
        layout.addWidget(self.summary)
        layout.addLayout(charts, 1)
        layout.addWidget(self.table)
        layout.addWidget(self.message)

    def _date_field(self, name: str, value: date) -> QDateEdit:
        field = QDateEdit(QDate(value.year, value.month, value.day))
        field.setObjectName(name)
        field.setAccessibleName(tr("Von") if name == "statFrom" else tr("Bis"))
        field.setDisplayFormat("dd.MM.yyyy")
        field.setCalendarPopup(True)
        return field

    def period(self) -> tuple[date, date]:
        return self.first.date().toPython(), self.last.date().toPython()  # type: ignore[return-value]

    # --- computing -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Compute the chosen period in the DB worker."""
        first, last = self.period()
        if last < first:
            self._say(tr("Das Ende des Zeitraums liegt vor seinem Anfang."), problem=True)
            return
        location = str(self.location.currentData() or "") or None
        config, visits = self.config, self.visits

        def work(store: Store) -> tuple[QueueStatistics, bool]:
            found, office = visits(store, first, last, location)
            return compute(found, config, first, last), office

        self._say(tr("Wird berechnet …"))
        Op(self, work, lambda done: self.show_stats(*done), what="queue statistics").latest(
            "stats").failure(
            lambda de, en: self._say(message_text(de, en), problem=True)).run(self.db)

    def show_stats(self, stats: QueueStatistics, office: bool = False) -> None:
        self.stats = stats
        self.scope.setText(tr("Zahlen des ganzen Amts (alle Arbeitsplätze, von der Zentrale)")
                           if office else
                           tr("Nur die Zahlen dieses Arbeitsplatzes (die Zentrale ist nicht "
                              "erreichbar oder nicht eingerichtet)"))
        self.save_button.setEnabled(True)
        total = stats.totals
        self.summary.setText(tr(
            "Bedient: {served} (mit Termin {appointment}, ohne Termin {walk_in}) · Nicht "
            "erschienen: {missed} (mit Termin {missed_appointment}, ohne Termin "
            "{missed_walk_in}) · Storniert: {cancelled}").format(
                served=served(total), appointment=total.served_appointment,
                walk_in=total.served_walk_in, missed=missed(total),
                missed_appointment=total.missed_appointment,
                missed_walk_in=total.missed_walk_in, cancelled=total.cancelled))
        served_on: defaultdict[str, int] = defaultdict(int)
        missed_on: defaultdict[str, int] = defaultdict(int)
        for (day, _location), outcome in stats.by_day.items():
            served_on[day] += served(outcome)
            missed_on[day] += missed(outcome)
        days = sorted(served_on)
        self.by_day.set_data([_day(d) for d in days], [
            Series(tr("bedient"), tuple(float(served_on[d]) for d in days)),
            Series(tr("nicht erschienen"), tuple(float(missed_on[d]) for d in days))])
        hours = list(stats.waiting_by_hour)
        self.waiting.set_data([tr("{hour} Uhr").format(hour=h) for h in hours], [
            Series(tr("Durchschnitt"), tuple(round(stats.waiting_by_hour[h].average, 1)
                                             for h in hours)),
            Series(tr("Höchstwert"), tuple(round(stats.waiting_by_hour[h].maximum, 1)
                                           for h in hours))])
        codes = list(stats.service_time)
        names = [self.config.services[c].name if c in self.config.services else c
                 for c in codes]
        self.service.set_data(names, [
            Series(tr("Durchschnitt"), tuple(round(stats.service_time[c].average, 1)
                                             for c in codes)),
            Series(tr("Höchstwert"), tuple(round(stats.service_time[c].maximum, 1)
                                           for c in codes))])
        keys = list(stats.capacity)
        self.capacity.set_data([f"{_day(day)} {location}" for day, location in keys], [
            Series(tr("Auslastung"), tuple(round(stats.capacity[k].utilisation * 100, 1)
                                           for k in keys))])
        self._fill_table(stats)
        self._say("")

    def _fill_table(self, stats: QueueStatistics) -> None:
        lines: list[tuple[str, Outcomes, str]] = []
        for code, outcome in stats.by_counter.items():
            counter = self.config.counters.get(code)
            durations = stats.waiting_by_counter.get(code)
            lines.append((counter.name if counter else code, outcome,
                          f"{durations.average:.1f}".replace(".", ",") if durations else "–"))
        for clerk, outcome in stats.by_clerk.items():
            lines.append((clerk, outcome, "–"))
        self.table.setRowCount(len(lines))
        for row, (name, outcome, wait) in enumerate(lines):
            for column, text in enumerate((name, str(served(outcome)), str(missed(outcome)),
                                           str(outcome.cancelled), wait)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    # --- saving ----------------------------------------------------------------------------

    def ask_save(self) -> None:
        if self.stats is None:
            return
        first, last = self.period()
        name, _filter = QFileDialog.getSaveFileName(
            self, tr("Statistik als CSV speichern"),
            str(Path.home() / f"warteschlange-{first.isoformat()}-{last.isoformat()}.csv"),
            tr("CSV-Dateien (*.csv)"))
        if name:
            self.save(Path(name))

    def save(self, path: Path) -> None:
        """The CSV with a BOM, so spreadsheets read it as UTF-8."""
        assert self.stats is not None
        try:
            path.write_text(to_csv(self.stats), encoding="utf-8-sig")
        except OSError as exc:
            log.error("statistics CSV not written: %s", exc.strerror)
            self._say(tr("Die Datei konnte nicht gespeichert werden: {reason}").format(
                reason=exc.strerror or ""), problem=True)
            return
        self._say(tr("Gespeichert: {path}").format(path=path))

    def _say(self, text: str, *, problem: bool = False) -> None:
        say(self.message, text, problem=problem)


def this_register(store: Store, first: date, last: date,
                  location: str | None) -> tuple[list[Visit], bool]:
    """The visits of this register only (no centre to ask)."""
    return local_visits(store, first, last, location), False


def _day(iso: str) -> str:
    return f"{iso[8:10]}.{iso[5:7]}."
