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

Only numbers and counters leave here (`ShownCall`): never a name.
"""

from __future__ import annotations

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

LOCAL_INTERVAL_S = 1.0


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
