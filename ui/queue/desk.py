"""The queue panel's work in the DB worker: what the counter sees, and each clerk action.

Every job here runs in the DB worker thread (through `ui.operation.Op`), never on the UI
thread, and answers with a `DeskView`: the action and the fresh view in one worker call, so
the panel never shows a state that is one step behind. The queue itself is the core's,
behind its one interface (`clerk_app.queue.backend.QueueBackend`); `Desk` chooses which:

* **Shared** (a location with `shared_queue` and a configured centre): the centre's queue
  through `sync.queue_client.QueueClient`, made in the worker thread on first use and kept
  there (one per thread, like the worker's `Store`). The clerk's session goes with it, so the
  centre records who called.
* **Local**: this register's `LocalQueue`: a mobile office always; the main office while the
  centre cannot be reached. An action the centre could not take (`CentralUnavailable`) is
  taken by the local queue instead, and for `LOCAL_RETRY_S` the panel stays local before it
  asks the centre again (a dead line must not cost the clerk a connect timeout per key).
  The local queue's changes reach the centre later through the outbox, exactly once (the
  core's rule). If an action went through at the centre and only the view could not be read
  after it, the clerk is told so and the action is never repeated locally.

The configuration is read once per process (`queue_config`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING

from clerk_app.config import Config
from clerk_app.errors import ConfigError
from clerk_app.queue.backend import QueueBackend
from clerk_app.queue.configuration import QueueConfig, load_queue_config
from clerk_app.queue.local_queue import LocalQueue, utc_now
from clerk_app.queue.states import VisitState
from clerk_app.queue.statistics import local_visits
from clerk_app.queue.visits import Visit
from clerk_app.store.db import Store
from sync.central_errors import CentralUnavailable

if TYPE_CHECKING:
    from sync.queue_client import QueueClient

log = logging.getLogger(__name__)

LOCAL_RETRY_S = 30.0
QUEUE_READ_TIMEOUT = 10.0   # a queue request is small; a hung centre must not hang the worker


@cache
def queue_config(path: str = "") -> QueueConfig:
    """The queue configuration in force (`queue_file`, else the packaged one), read once."""
    return load_queue_config(path or None)


@dataclass(frozen=True)
class DeskView:
    """What the panel shows: this counter, the visit at it, the lines to choose from, and
    whose queue it is (`shared`: the centre's; else this register's own)."""

    counter: str
    counter_name: str
    location_name: str
    current: Visit | None
    waiting: tuple[Visit, ...]
    parked: tuple[Visit, ...]
    missed: tuple[Visit, ...]
    service_names: Mapping[str, str]
    max_calls: int
    now: datetime
    shared: bool = False
    location_shared: bool = False

    def names(self, codes: tuple[str, ...]) -> str:
        return ", ".join(self.service_names.get(code, code) for code in codes)


def counter_of(cfg: Config) -> str:
    """This workstation's counter; ConfigError (German) when IT has set none."""
    if not cfg.queue_counter:
        raise ConfigError("Dieser Arbeitsplatz ist keinem Schalter zugeordnet; Aufrufen ist "
                          "hier nicht möglich. Bitte die IT verständigen (queue_counter).",
                          "queue_counter not configured")
    queue_config(cfg.queue_file).counter(cfg.queue_counter)   # known, else ConfigError
    return cfg.queue_counter


def desk_view(queue: QueueBackend, config: QueueConfig, counter: str, now: datetime, *,
              shared: bool) -> DeskView:
    """The counter's view, read in one go."""
    spec = config.counter(counter)
    location = config.location(spec.location)
    aside = queue.visits_today(spec.location, [VisitState.PARKED, VisitState.MISSED])
    return DeskView(
        counter=counter, counter_name=spec.name, location_name=location.name,
        current=queue.at_counter(counter),
        waiting=tuple(queue.waiting_line(counter)),
        parked=tuple(v for v in aside if v.state is VisitState.PARKED),
        missed=tuple(v for v in aside if v.state is VisitState.MISSED),
        service_names={code: s.name for code, s in config.services.items()},
        max_calls=config.settings.max_calls, now=now, shared=shared,
        location_shared=location.shared_queue)


DeskAction = Callable[[QueueBackend, str], object]


class Desk:
    """The panel's jobs for the DB worker (see the module docstring)."""

    def __init__(self, cfg: Config, clerk_session: str | None = None, *,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.cfg = cfg
        self.clerk_session = clerk_session
        self.clock = clock
        self._client: QueueClient | None = None   # made and used in the worker thread
        self._local_until = 0.0

    @property
    def config(self) -> QueueConfig:
        return queue_config(self.cfg.queue_file)

    def location(self) -> str:
        return self.config.counter(counter_of(self.cfg)).location

    def is_shared(self) -> bool:
        """The counter's location shares its queue through a configured centre."""
        return bool(self.cfg.central_url) and \
            self.config.location(self.location()).shared_queue

    def job(self, action: DeskAction | None) -> Callable[[Store], DeskView]:
        """The worker's job for one clerk action: `action(queue, counter)`, then the fresh
        view (`None`: only the view). A refused action raises (its German message goes to
        the panel)."""
        return lambda store: self.run(store, action)

    def run(self, store: Store, action: DeskAction | None) -> DeskView:
        counter = counter_of(self.cfg)
        if self.is_shared() and time.monotonic() >= self._local_until:
            client = self.client()
            acted = False
            try:
                if action is not None:
                    action(client, counter)
                    acted = True
                return desk_view(client, self.config, counter, self.clock(), shared=True)
            except CentralUnavailable as exc:
                if acted:
                    raise   # done at the centre: never again here (module docstring)
                log.warning("shared queue unreachable (%s); working on the local queue for "
                            "%.0f s", exc.message_en, LOCAL_RETRY_S)
                self._local_until = time.monotonic() + LOCAL_RETRY_S
        local = LocalQueue(store, self.config, clock=self.clock)
        if action is not None:
            action(local, counter)
        return desk_view(local, self.config, counter, self.clock(), shared=False)

    def client(self) -> QueueClient:
        """The worker thread's client, made on first use."""
        if self._client is None:
            self._client = self.new_client()
        return self._client

    def new_client(self) -> QueueClient:
        """A client of the shared queue (one per thread: the feed thread makes its own)."""
        from sync.central_connection import connect
        from sync.client import CONNECT_TIMEOUT
        from sync.queue_client import QueueClient

        central = connect(self.cfg, self.clerk_session)
        central.timeout = (CONNECT_TIMEOUT, QUEUE_READ_TIMEOUT)
        names = {code: counter.name for code, counter in self.config.counters.items()}
        return QueueClient(central, names)

    def statistics_visits(self, store: Store, first: date, last: date,
                          location: str | None) -> tuple[list[Visit], bool]:
        """The visits the statistics count: the whole office's, from the centre, when one
        is configured and answers (True); else this register's own (False)."""
        if self.cfg.central_url:
            try:
                return self.client().visits_between(first, last, location), True
            except CentralUnavailable as exc:
                log.warning("office statistics unreachable (%s); this register's figures",
                            exc.message_en)
        return local_visits(store, first, last, location), False

    def retry_centre(self) -> None:
        """The centre's feed is back: the next job asks the centre again."""
        self._local_until = 0.0


def finish_with_commands(queue: QueueBackend, counter: str, command_id: str,
                         command_type: str, person_id: str | None = None) -> None:
    """A counter service was completed for the visit at this counter: it is linked to the
    visit (the service it carries out is ticked; the citizen served, `person_id`, is
    remembered), and once no requested service is left
    open the visit is finished: finishing the service finishes the visit. A visit still
    only called has plainly appeared. One transaction (`complete_service`): all of it, or
    nothing and the clerk is told."""
    visit = queue.at_counter(counter)
    if visit is not None:
        queue.complete_service(visit.id, counter, command_id, command_type, person_id)
