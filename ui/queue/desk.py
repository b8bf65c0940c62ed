"""The queue panel's work in the DB worker: what the counter sees, and each clerk action.

Every function here runs in the DB worker thread (through `ui.operation.Op`), never on the
UI thread, and answers with a `DeskView`: the action and the fresh view in one worker call,
so the panel never shows a state that is one step behind. The queue itself is the core's,
behind its one interface (`clerk_app.queue.backend.QueueBackend`): `backend_for` chooses
it (this register's `LocalQueue`, one per call like the worker's `Store`); the
configuration is read once per process (`queue_config`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from clerk_app.config import Config
from clerk_app.errors import ConfigError
from clerk_app.queue.backend import QueueBackend
from clerk_app.queue.configuration import QueueConfig, load_queue_config
from clerk_app.queue.local_queue import LocalQueue, utc_now
from clerk_app.queue.states import VisitState
from clerk_app.queue.visits import Visit
from clerk_app.store.db import Store


@cache
def queue_config(path: str = "") -> QueueConfig:
    """The queue configuration in force (`queue_file`, else the packaged one), read once."""
    return load_queue_config(path or None)


@dataclass(frozen=True)
class DeskView:
    """What the panel shows: this counter, the visit at it, the lines to choose from."""

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


def backend_for(store: Store, cfg: Config,
                clock: Callable[[], datetime] = utc_now) -> QueueBackend:
    """The queue this workstation works on now: its register's own queue."""
    return LocalQueue(store, queue_config(cfg.queue_file), clock=clock)


def desk_view(queue: QueueBackend, config: QueueConfig, counter: str,
              now: datetime) -> DeskView:
    """The counter's view, read in one go."""
    spec = config.counter(counter)
    aside = queue.visits_today(spec.location, [VisitState.PARKED, VisitState.MISSED])
    return DeskView(
        counter=counter, counter_name=spec.name,
        location_name=config.location(spec.location).name,
        current=queue.at_counter(counter),
        waiting=tuple(queue.waiting_line(counter)),
        parked=tuple(v for v in aside if v.state is VisitState.PARKED),
        missed=tuple(v for v in aside if v.state is VisitState.MISSED),
        service_names={code: s.name for code, s in config.services.items()},
        max_calls=config.settings.max_calls, now=now)


DeskAction = Callable[[QueueBackend, str], object]


def act(cfg: Config, action: DeskAction,
        clock: Callable[[], datetime] = utc_now) -> Callable[[Store], DeskView]:
    """The worker's job for one clerk action: `action(queue, counter)`, then the fresh view.
    A refused action raises (its German message goes to the panel) and changes nothing."""
    def work(store: Store) -> DeskView:
        counter = counter_of(cfg)
        queue = backend_for(store, cfg, clock)
        action(queue, counter)
        return desk_view(queue, queue_config(cfg.queue_file), counter, clock())
    return work


def finish_with_commands(queue: QueueBackend, counter: str, command_id: str,
                         command_type: str) -> None:
    """A counter service was completed for the visit at this counter: it is linked to the
    visit (the service it carries out is ticked), and once no requested service is left
    open the visit is finished: finishing the service finishes the visit. A visit still
    only called has plainly appeared. Three steps, each its own transaction (the core's
    rule): cut off in between, the panel shows the visit in service with its services
    ticked, and the clerk finishes it with one key."""
    visit = queue.at_counter(counter)
    if visit is None:
        return
    if visit.state is VisitState.CALLED:
        queue.appear(visit.id, counter)
    linked = queue.link_command(visit.id, command_id, command_type, counter)
    if not linked.open_services:
        queue.finish(visit.id, counter, linked.services_done)
