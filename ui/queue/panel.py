"""The queue panel of the main window: this counter's visit and the lines, with one key per
clerk action.

Keys (from the window's one table, `ui.function_keys`; the panel's buttons carry the same
actions): Strg+N "Nächste Person aufrufen", Strg+R erneut aufrufen, Strg+E erschienen,
Strg+Umschalt+E nicht erschienen, Strg+B wieder einreihen, Strg+Umschalt+P parken,
Strg+Umschalt+W weiterleiten, Strg+Umschalt+A abschließen (services ticked), Strg+Umschalt+X
stornieren, Strg+I einchecken (booking number in the search field, or asked), Strg+T
Wartemarke, Strg+Umschalt+L the list (Enter there calls the chosen visit: a parked one back
with its paper, a missed one again). A confirmation's QR code scanned into the search field
checks in at once (`SearchPanel.check_in_scanned`).

Every action is one `Op` on the DB worker (`ui.queue.desk.Desk`: the centre's shared queue, or
this register's own when there is none or it cannot be reached): the queue changes the visit
and the answer is the fresh `DeskView`. With a shared queue a feed thread follows the
centre's live feed (server-sent events, `call_sources.queue_changes`) and each change another
counter makes reloads the panel within a moment; without it the panel reloads every
`REFRESH_MS` (waiting times and due appointments move on by themselves). "Call next" mints its
request id once per key press and ignores the key while its call is in flight, so a double
press never calls two (the core answers a repeated id with the same visit).

"Erschienen" opens the citizen: the person if the visit knows them, else their name in the
search. The counter-service keys (F2 … F8) are shown for the visit's open services; when a
service completes (`MainWindow.service_completed`) it is linked to the visit, and the last
open service done finishes the visit (`desk.finish_with_commands`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QInputDialog,
    QLabel,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.ids import new_id
from clerk_app.queue.booking_codes import read_check_in_code
from clerk_app.queue.states import VisitState
from clerk_app.queue.visits import APPOINTMENT, Visit
from clerk_app.services.base import ServiceResult
from ui.db_worker import DbWorker
from ui.function_keys import FUNCTION_KEYS
from ui.i18n import message_text, tr, tr_label
from ui.operation import Op
from ui.queue.call_feed import CallFeed
from ui.queue.call_sources import queue_changes
from ui.queue.desk import Desk, DeskAction, DeskView, finish_with_commands, queue_config
from ui.queue.ticket import TicketText
from ui.queue.ticket_printing import TicketPrinter
from ui.queue.visit_dialogs import Answer, VisitDialog
from ui.style import MUTED, say

if TYPE_CHECKING:
    from clerk_app.queue.backend import QueueBackend

REFRESH_MS = 15_000     # waiting times and due appointments move on without any key
CHANGE_DELAY_MS = 150   # after a change pushed by the centre
PANEL_ACTIONS = ("Ctrl+N", "Ctrl+R", "Ctrl+E", "Ctrl+Shift+E", "Ctrl+B", "Ctrl+Shift+P",
                 "Ctrl+Shift+W", "Ctrl+Shift+A", "Ctrl+Shift+X", "Ctrl+I", "Ctrl+T",
                 "Ctrl+Shift+S")


def service_keys(cfg: Config) -> dict[str, str]:
    """Visit service -> the function key of the counter service that carries it out (from
    the window's key table: "F6" for a Meldebescheinigung)."""
    by_command = {entry.service: entry.key for entry in FUNCTION_KEYS if entry.service}
    return {code: by_command[command]
            for code, spec in queue_config(cfg.queue_file).services.items()
            for command in spec.commands[:1] if command in by_command}


def _time(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%H:%M") if moment else "–"


class QueuePanel(QWidget):
    """See the module docstring. `open_citizen(person_id, name)` and `search_text()` are the
    window's."""

    def __init__(self, cfg: Config, db: DbWorker,
                 open_citizen: Callable[[str | None, str], None],
                 search_text: Callable[[], str], parent: QWidget | None = None, *,
                 clerk_session: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.setAccessibleName(tr("Warteschlange"))
        self.cfg = cfg
        self.db = db
        self.open_citizen = open_citizen
        self.search_text = search_text
        self.view: DeskView | None = None
        self.desk = Desk(cfg, clerk_session)
        self.feed: CallFeed | None = None
        self.ticket_printer = TicketPrinter(cfg)
        self._calling = False
        self._dialog: VisitDialog | None = None
        self.statistics: QDialog | None = None

        self.heading = QLabel()
        self.heading.setObjectName("queueHeading")
        self.heading.setWordWrap(True)
        self.number = QLabel("–")
        self.number.setObjectName("queueNumber")
        font = QFont(self.number.font())
        font.setPointSizeF(font.pointSizeF() * 2.4)
        font.setBold(True)
        self.number.setFont(font)
        self.number.setAccessibleName(tr("Nummer am Schalter"))
        self.details = QLabel()
        self.details.setObjectName("queueDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        current = QFrame()
        current.setObjectName("queueCurrent")
        current.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(current)
        box.addWidget(self.number)
        box.addWidget(self.details)
        self.buttons = QGridLayout()
        self.message = QLabel()
        self.message.setObjectName("queueMessage")
        self.message.setWordWrap(True)
        self.lines = QTreeWidget()
        self.lines.setObjectName("queueLines")
        self.lines.setAccessibleName(tr("Warteliste"))
        self.lines.setHeaderLabels([tr("Nummer"), tr("Art"), tr("seit"), tr("Anliegen")])
        self.lines.setRootIsDecorated(False)
        self.lines.setColumnWidth(0, 70)
        self.lines.setColumnWidth(1, 90)
        self.lines.setColumnWidth(2, 50)
        self.lines.itemActivated.connect(self._call_chosen)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.heading)
        layout.addWidget(current)
        layout.addLayout(self.buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.lines, 1)
        hint = QLabel(tr("Enter ruft die gewählte Nummer auf."))
        hint.setStyleSheet(f"color: {MUTED};")
        layout.addWidget(hint)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._soon = QTimer(self)   # a burst of changes at the centre: one reload
        self._soon.setSingleShot(True)
        self._soon.setInterval(CHANGE_DELAY_MS)
        self._soon.timeout.connect(self.refresh)

    def add_buttons(self, actions: dict[str, QAction]) -> None:
        """The panel's keys as buttons (the same actions as the keys: one place for each)."""
        for index, key in enumerate(k for k in PANEL_ACTIONS if k in actions):
            button = QToolButton()
            button.setDefaultAction(actions[key])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAccessibleName(actions[key].text().replace("\n", " "))
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            if index == 0:   # "Nächste Person aufrufen": the key of the day, full width
                font = button.font()
                font.setBold(True)
                button.setFont(font)
                self.buttons.addWidget(button, 0, 0, 1, 2)
            else:
                self.buttons.addWidget(button, 1 + (index - 1) // 2, (index - 1) % 2)

    def start(self) -> None:
        """The register is open: show the counter and keep it current."""
        self.refresh()
        self._timer.start()
        try:
            shared = self.desk.is_shared()
        except ClerkError:
            return   # said by the first refresh
        if shared:
            desk = self.desk
            self.feed = CallFeed(queue_changes(desk.new_client, desk.location()),
                                 self)
            self.feed.calls.connect(lambda _beat: self._soon.start())
            self.feed.connected.connect(self._on_connected)
            self.feed.start()

    def stop(self) -> None:
        """The window closes: the feed thread ends (it is a daemon; nothing waits for it)."""
        self._timer.stop()
        if self.feed is not None:
            self.feed.stop()

    def _on_connected(self, connected: bool) -> None:
        if connected:
            self.desk.retry_centre()
        self._soon.start()

    # --- showing ---------------------------------------------------------------------------

    def refresh(self) -> None:
        self._run(None, "queue view", quiet=True)

    def _show(self, view: DeskView) -> None:
        self.view = view
        heading = tr("{counter} – {location}").format(counter=view.counter_name,
                                                       location=view.location_name)
        if view.shared:
            whose = tr("Gemeinsame Warteschlange (Zentrale)")
        elif view.location_shared:
            whose = tr("⚠ Zentrale nicht erreichbar: eigene Warteschlange dieses "
                       "Arbeitsplatzes; sie wird später übertragen.")
        else:
            whose = tr("Warteschlange dieses Arbeitsplatzes")
        self.heading.setText(f"{heading}\n{whose}")
        visit = view.current
        if visit is None:
            self.number.setText("–")
            self.details.setText(tr("Kein Besuch am Schalter. Strg+N ruft die nächste Person "
                                    "auf ({n} wartend).").format(n=len(view.waiting)))
        else:
            self.number.setText(visit.label)
            self.details.setText("\n".join(self._describe(view, visit)))
        self._fill_lines(view)

    def _describe(self, view: DeskView, visit: Visit) -> list[str]:
        if visit.state is VisitState.CALLED:
            state = tr("aufgerufen ({n}. von {max} Aufrufen)").format(n=visit.call_count,
                                                                    max=view.max_calls)
        else:
            state = tr_label(visit.state.label)
        lines = [state]
        if visit.kind == APPOINTMENT:
            lines.append(tr("Termin {time} Uhr").format(time=_time(visit.appointment_at)))
        else:
            lines.append(tr("Wartemarke, wartet seit {time} Uhr").format(
                time=_time(visit.queued_at)))
        if visit.name:
            lines.append(visit.name)
        keys = service_keys(self.cfg)
        for code in visit.services:
            done = "✔ " if code in visit.services_done else "☐ "
            key = f" ({keys[code]})" if code in keys and code not in visit.services_done else ""
            lines.append(done + view.service_names.get(code, code) + key)
        return lines

    def _fill_lines(self, view: DeskView) -> None:
        chosen = self._chosen_id()
        self.lines.clear()
        groups = ((tr("Wartend ({n})"), view.waiting), (tr("Geparkt ({n})"), view.parked),
                  (tr("Nicht erschienen ({n})"), view.missed))
        for title, visits in groups:
            heading = QTreeWidgetItem([title.format(n=len(visits))])
            heading.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = heading.font(0)
            font.setBold(True)
            heading.setFont(0, font)
            self.lines.addTopLevelItem(heading)
            heading.setFirstColumnSpanned(True)
            for visit in visits:
                kind = tr("Termin") if visit.kind == APPOINTMENT else tr("Wartemarke")
                since = visit.appointment_at if visit.kind == APPOINTMENT and \
                    visit.state is VisitState.QUEUED else visit.queued_at
                item = QTreeWidgetItem([visit.label, kind, _time(since),
                                        view.names(visit.open_services)])
                item.setData(0, Qt.ItemDataRole.UserRole, visit.id)
                self.lines.addTopLevelItem(item)
                if visit.id == chosen:
                    self.lines.setCurrentItem(item)

    def _chosen_id(self) -> str | None:
        item = self.lines.currentItem()
        value = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return str(value) if value else None

    def say(self, text: str, *, problem: bool = False) -> None:
        """A line under the keys: what happened, or (red, with ⚠) what was refused."""
        say(self.message, text, problem=problem)

    # --- acting ----------------------------------------------------------------------------

    def _run(self, action: DeskAction | None, what: str, *, quiet: bool = False,
             then: Callable[[DeskView], None] | None = None) -> None:
        def done(view: DeskView) -> None:
            self._show(view)
            if not quiet:
                self.say("")
            if then is not None:
                then(view)

        def failed(message_de: str, message_en: str) -> None:
            self._calling = False
            self.say(message_text(message_de, message_en), problem=True)

        Op(self, self.desk.job(action), done, what=what).failure(failed).run(self.db)

    def _current(self) -> Visit | None:
        visit = self.view.current if self.view is not None else None
        if visit is None:
            self.say(tr("Kein Besuch am Schalter. Strg+N ruft die nächste Person auf."),
                     problem=True)
        return visit

    def call_next(self) -> None:
        """Strg+N: one call per key press; a second press while it runs is ignored."""
        if self._calling:
            return
        self._calling = True
        request_id = new_id()

        def called(view: DeskView) -> None:
            self._calling = False
            if view.current is None:
                self.say(tr("Niemand wartet auf diesen Schalter."))

        self._run(lambda queue, counter: queue.call_next(counter, request_id),
                  "queue call next", then=called)

    def recall(self) -> None:
        visit = self._current()
        if visit is not None:
            self._run(lambda queue, counter: queue.recall(visit.id, counter), "queue recall")

    def appear(self) -> None:
        visit = self._current()
        if visit is None:
            return
        self._run(lambda queue, counter: queue.appear(visit.id, counter), "queue appear",
                  then=lambda _view: self.open_citizen(visit.person_id, visit.name))

    def not_appeared(self) -> None:
        visit = self._current()
        if visit is not None:
            self._run(lambda queue, counter: queue.not_appeared(visit.id, counter),
                      "queue not appeared")

    def put_back(self) -> None:
        """Strg+B: the visit chosen in the list (missed or parked), else the one called."""
        chosen = self._chosen_id() if self.lines.hasFocus() else None
        visit_id = chosen or (self.view.current.id if self.view and self.view.current else None)
        if visit_id is None:
            self.say(tr("Bitte erst in der Liste (Strg+Umschalt+L) eine Nummer wählen."),
                     problem=True)
            return
        self._run(lambda queue, counter: queue.put_back(visit_id, counter), "queue put back")

    def park(self) -> None:
        visit = self._current()
        if visit is not None:
            self._run(lambda queue, counter: queue.park(visit.id, counter), "queue park")

    def focus_lines(self) -> None:
        self.lines.setFocus()
        if self.lines.currentItem() is not None:
            return
        for index in range(self.lines.topLevelItemCount()):
            item = self.lines.topLevelItem(index)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole):
                self.lines.setCurrentItem(item)
                return

    def _call_chosen(self, item: QTreeWidgetItem) -> None:
        visit_id = item.data(0, Qt.ItemDataRole.UserRole)
        if visit_id:
            self._run(lambda queue, counter: queue.call(str(visit_id), counter),
                      "queue call chosen")

    def check_in_typed(self) -> None:
        """Strg+I: the booking number typed into the search field, else asked for."""
        text = self.search_text()
        try:
            read_check_in_code(text)
        except ClerkError:
            text, ok = QInputDialog.getText(self, tr("Einchecken"),
                                            tr("Buchungsnummer von der Terminbestätigung:"))
            if not ok or not text.strip():
                return
        self.check_in(text)

    def check_in(self, code: str) -> None:
        """A booking number or a scanned confirmation's QR code: the visit joins the line."""
        def checked(view: DeskView) -> None:
            self.say(tr("Eingecheckt: Nr. {label} wartet ({n} wartend).").format(
                label=checked_label[0], n=len(view.waiting)))

        checked_label = [""]

        def work(queue: QueueBackend, _counter: str) -> None:
            checked_label[0] = queue.check_in(code).label

        self._run(work, "queue check in", then=checked)

    # --- with a question first -------------------------------------------------------------

    def _ask(self, dialog: VisitDialog, on_answer: Callable[[Answer], None]) -> None:
        self._dialog = dialog
        dialog.chosen.connect(on_answer)
        self._closing(dialog)
        dialog.open()

    def _closing(self, dialog: QDialog) -> None:
        """When `dialog` closes, the window has the keyboard again (its last focus: the
        search field), ready for the next key."""
        window = self.window()

        def closed(_code: int) -> None:
            dialog.deleteLater()
            window.activateWindow()

        dialog.finished.connect(closed)

    def finish(self) -> None:
        visit = self._current()
        view = self.view
        if visit is None or view is None:
            return
        dialog = VisitDialog(tr("Besuch abschließen"), tr("Nr. {label}: Welche Anliegen sind "
                             "erledigt? (Leertaste hakt ab, Enter schließt ab)").format(
                                 label=visit.label), tr("Abschließen"), self)
        dialog.add_ticks(tr("Erledigt"), [(c, view.service_names.get(c, c), True)
                                          for c in visit.services])
        self._ask(dialog, lambda answer: self._run(
            lambda queue, counter: queue.finish(visit.id, counter, answer.ticked),
            "queue finish"))

    def forward(self) -> None:
        visit = self._current()
        view = self.view
        if visit is None or view is None:
            return
        config = queue_config(self.cfg.queue_file)
        here = config.counter(view.counter).location
        counters = [("", tr("jeder passende Schalter"))] + [
            (code, c.name) for code, c in config.counters.items()
            if c.location == here and code != view.counter]
        dialog = VisitDialog(tr("Weiterleiten"), tr("Nr. {label} an einen anderen Schalter "
                             "oder mit anderen Anliegen zurück in die Warteschlange.").format(
                                 label=visit.label), tr("Weiterleiten"), self)
        dialog.add_choice("counter", tr("&Schalter"), counters)
        dialog.add_ticks(tr("Anliegen"), [(code, s.name, code in visit.open_services)
                                          for code, s in config.services.items()])
        self._ask(dialog, lambda answer: self._run(
            lambda queue, counter: queue.forward(
                visit.id, counter, to_counter=answer.choices.get("counter") or None,
                to_services=answer.ticked), "queue forward"))

    def cancel(self) -> None:
        visit = self._current()
        if visit is None:
            return
        dialog = VisitDialog(tr("Besuch stornieren"), tr("Nr. {label} stornieren? Der Besuch "
                             "verlässt die Warteschlange.").format(label=visit.label),
                             tr("Stornieren"), self)
        dialog.add_line(tr("&Grund (ohne Namen)"))
        self._ask(dialog, lambda answer: self._run(
            lambda queue, counter: queue.cancel(visit.id, counter, answer.text),
            "queue cancel"))

    def draw_ticket(self) -> None:
        """Strg+T: a walk-in ticket of a group of this location, drawn and printed."""
        view = self.view
        if view is None:
            return
        config = queue_config(self.cfg.queue_file)
        counter = config.counter(view.counter)
        groups = [(code, f"{g.prefix} – {g.name}") for code, g in config.ticket_groups.items()
                  if g.location == counter.location]
        # Preselected: the first group this counter serves (the citizen is usually at it).
        mine = next((code for code, g in config.ticket_groups.items()
                     if g.location == counter.location
                     and set(g.services) & set(counter.services)), "")
        dialog = VisitDialog(tr("Wartemarke ziehen"), tr("Für einen Besuch ohne Termin."),
                             tr("Ziehen und drucken"), self)
        dialog.add_choice("group", tr("&Gruppe"), groups, mine)
        dialog.add_choice("priority", tr("&Vorrang"),
                          [("1", tr("normal")), ("2", tr("erhöht")), ("3", tr("dringend"))])
        drawn: list[Visit] = []
        request_id = new_id()  # one ticket per dialog, however often its answer is sent

        def draw(answer: Answer) -> None:
            def work(queue: QueueBackend, _counter: str) -> None:
                drawn.append(queue.draw_ticket(answer.choices["group"],
                                               priority=int(answer.choices["priority"]),
                                               request_id=request_id))
            self._run(work, "queue draw ticket", then=lambda v: self._print(drawn[0], v))

        self._ask(dialog, draw)

    def _print(self, visit: Visit, view: DeskView) -> None:
        before = sum(1 for v in view.waiting if v.id != visit.id)
        ticket = TicketText(self.cfg.office_name, view.location_name, visit.label,
                            tuple(view.service_names.get(c, c) for c in visit.services),
                            (visit.queued_at or view.now).astimezone(), before,
                            tr("Vorrang") if visit.priority > 1 else "")
        self.say(self.ticket_printer.print(ticket))

    def open_statistics(self) -> None:
        """Strg+Umschalt+S: the statistics of the waiting room."""
        from ui.queue.statistics_dialog import StatisticsDialog

        dialog = StatisticsDialog(self.db, queue_config(self.cfg.queue_file), self.window(),
                                  visits=self.desk.statistics_visits)
        self._closing(dialog)
        self.statistics = dialog
        dialog.open()
        dialog.refresh()

    # --- the counter services --------------------------------------------------------------

    def service_completed(self, result: ServiceResult, person_id: str | None) -> None:
        """A counter service completed for `person_id` (the person open now): linked to the
        visit here, which remembers the citizen; the last open service finishes it."""
        if self.view is None or self.view.current is None or result.replayed:
            return
        self._run(lambda queue, counter: finish_with_commands(
            queue, counter, result.command_id, result.type, person_id), "queue link service")
