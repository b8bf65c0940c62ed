"""Where the call display's calls come from: the shared queue at the centre, or this
workstation's own queue (a mobile office). Each is a `CallSource` for `CallFeed`: it runs in
the feed's thread and yields the board's calls each time they change.

* **Shared** (`shared_calls`): the last calls read once from the centre, then its live feed
  (server-sent events, `sync.queue_client.QueueClient.events`): each call pushed is put on
  top at once, no polling. When the feed says it is offline the source ends with an error, so
  the feed shows "reconnecting" and, once the centre answers again, starts over with a fresh
  read: calls made while it was away are on the board again.
* **Local** (`local_calls`): the register opened in the feed's thread (an SQLCipher
  connection belongs to its thread), its last calls read every `LOCAL_INTERVAL_S` and
  yielded when they changed: one indexed query a second on the same machine, where no push
  exists across processes.
* **Shared, else local** (`shared_or_local`): the call display of a workstation whose
  location shares its queue. While the centre is away the workstation calls from its own
  queue (the calls go to the centre later through the outbox), so the display follows that
  queue meanwhile, asks the centre every `PROBE_S` whether it answers again, and then starts
  over on the shared queue.

Only numbers and counters leave here (`ShownCall`): never a name.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence

from clerk_app.queue.configuration import QueueConfig
from clerk_app.queue.local_queue import LocalQueue
from clerk_app.queue.visits import Call
from clerk_app.store.db import Store
from sync.central_errors import CentralUnavailable
from sync.queue_client import QueueClient
from ui.queue.call_board import ROWS, ShownCall
from ui.queue.call_feed import CallSource

log = logging.getLogger(__name__)

LOCAL_INTERVAL_S = 1.0
PROBE_S = 5.0


def shown(calls: Sequence[Call]) -> list[ShownCall]:
    """The board's lines of the core's calls (a recall is a new line: its own time)."""
    return [ShownCall(c.label, c.counter_name or c.counter, c.at,
                      f"{c.visit_id}|{c.at.isoformat()}") for c in calls]


def shared_calls(connect: Callable[[], QueueClient], location: str) -> CallSource:
    """The shared queue of `location` (see the module docstring); `connect` makes the
    client in the feed's thread, once per connection."""
    def source(stop: threading.Event) -> Iterator[Sequence[ShownCall]]:
        client = connect()
        try:
            calls = shown(client.recent_calls(location, ROWS))
            yield calls
            for event in client.events(location, stop):
                if event.kind == "offline":
                    raise CentralUnavailable("Die Zentrale ist nicht erreichbar.",
                                             "queue feed offline")
                if event.call is not None:
                    calls = [*shown([event.call]), *calls][:ROWS]
                    yield calls
        finally:
            client.client.close()
    return source


def queue_changes(connect: Callable[[], QueueClient], location: str) -> CallSource:
    """Not calls but a beat per change of the shared queue of `location` (an empty
    snapshot each time; the first when connected): the queue panel reloads on it. Offline
    ends the source like `shared_calls`, so the feed's `connected` says so."""
    def source(stop: threading.Event) -> Iterator[Sequence[ShownCall]]:
        client = connect()
        try:
            yield []
            for event in client.events(location, stop):
                if event.kind == "offline":
                    raise CentralUnavailable("Die Zentrale ist nicht erreichbar.",
                                             "queue feed offline")
                yield []
        finally:
            client.client.close()
    return source


def centre_answers(connect: Callable[[], QueueClient], location: str) -> bool:
    """Does the centre answer for `location`'s calls now?"""
    try:
        client = connect()
    except Exception:  # no connection to be had (its settings, the network)
        return False
    try:
        client.recent_calls(location, 1)
        return True
    except Exception:
        return False
    finally:
        client.client.close()


def shared_or_local(shared: CallSource, local: CallSource, answers: Callable[[], bool],
                    probe_interval: float = PROBE_S) -> CallSource:
    """`shared` while the centre answers, `local` while it is away (see the module
    docstring); `answers` asks the centre, in a thread of its own."""
    def source(stop: threading.Event) -> Iterator[Sequence[ShownCall]]:
        try:
            yield from shared(stop)
        except Exception as exc:  # the centre went away, or was away from the start
            log.info("call display: centre away (%s), following this register's queue",
                     type(exc).__name__)
        if stop.is_set():
            return
        back = threading.Event()  # the centre answers again, or the display closes

        def probe() -> None:
            while not stop.wait(probe_interval) and not back.is_set() and not answers():
                pass
            back.set()

        threading.Thread(target=probe, name="call-display-probe", daemon=True).start()
        try:
            yield from local(back)
        finally:
            back.set()
        # Ending here, the feed starts over: on the shared queue again.
    return source


def local_calls(open_store: Callable[[], Store], config: QueueConfig,
                location: str, interval: float = LOCAL_INTERVAL_S) -> CallSource:
    """This register's queue of `location` (see the module docstring)."""
    def source(stop: threading.Event) -> Iterator[Sequence[ShownCall]]:
        with open_store() as store:
            queue = LocalQueue(store, config)
            last: list[Call] | None = None
            while not stop.is_set():
                calls = queue.recent_calls(location, ROWS)
                if calls != last:
                    last = calls
                    yield shown(calls)
                stop.wait(interval)
    return source
