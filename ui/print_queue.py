"""The print system's side of a print: is the queue taking jobs, and did the job arrive?

Qt's CUPS engine hands the finished pages to CUPS when the painter ends and drops the answer:
a queue that rejects jobs (`cupsreject`) or is stopped (`cupsdisable`) looked like a
successful print, and the clerk handed over nothing. So the queue is asked before (accepting,
enabled) and the job is looked up after, by its name: every job carries its document number
(`QPrinter.setDocName`), which also shows in the queue and the print accounting.

CUPS is asked through its own library, libcups (the Qt CUPS plugin needs it anyway, so it is a
runtime dependency of the Linux package), with ctypes: no compiler, no extra package. Where
there is no libcups (Windows, macOS without CUPS) the checks answer "unknown" and printing
goes on as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

WHICHJOBS_ALL = -1
PRINTER_STOPPED = 5


class JobState(IntEnum):
    """IPP job states (RFC 8011)."""

    PENDING = 3
    HELD = 4
    PROCESSING = 5
    STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9


class _Option(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_char_p)]


class _Dest(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("instance", ctypes.c_char_p),
                ("is_default", ctypes.c_int), ("num_options", ctypes.c_int),
                ("options", ctypes.POINTER(_Option))]


class _Job(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int), ("dest", ctypes.c_char_p), ("title", ctypes.c_char_p),
                ("user", ctypes.c_char_p), ("format", ctypes.c_char_p), ("state", ctypes.c_int),
                ("size", ctypes.c_int), ("priority", ctypes.c_int),
                ("completed_time", ctypes.c_long), ("creation_time", ctypes.c_long),
                ("processing_time", ctypes.c_long)]


@cache
def _libcups() -> Any | None:
    name = ctypes.util.find_library("cups")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        log.info("libcups not loadable: %s", exc)
        return None
    lib.cupsGetNamedDest.restype = ctypes.POINTER(_Dest)
    lib.cupsGetNamedDest.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.cupsGetOption.restype = ctypes.c_char_p
    lib.cupsGetOption.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(_Option)]
    lib.cupsFreeDests.argtypes = [ctypes.c_int, ctypes.POINTER(_Dest)]
    lib.cupsGetJobs2.restype = ctypes.c_int
    lib.cupsGetJobs2.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(_Job)),
                                 ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    lib.cupsFreeJobs.argtypes = [ctypes.c_int, ctypes.POINTER(_Job)]
    lib.cupsLastErrorString.restype = ctypes.c_char_p
    lib.cupsSetServer.argtypes = [ctypes.c_char_p]
    return lib


def cups_available() -> bool:
    return _libcups() is not None


def use_server(server: str | None) -> None:
    """Point this thread's libcups at `server` ("host:port" or a socket path; None: the
    environment's or the system's default again). libcups remembers the server per thread
    once asked, so a changed CUPS_SERVER is only seen after this."""
    lib = _libcups()
    if lib is not None:
        lib.cupsSetServer(server.encode() if server else None)


@dataclass(frozen=True)
class QueueState:
    """A print queue as CUPS reports it."""

    name: str
    accepting: bool
    enabled: bool
    reasons: str

    @property
    def ready(self) -> bool:
        return self.accepting and self.enabled


def queue_state(name: str) -> QueueState | None:
    """The CUPS queue `name`; None when this machine has no CUPS or the queue is unknown to
    it (then nothing can be said either way)."""
    lib = _libcups()
    if lib is None or not name:
        return None
    dest = lib.cupsGetNamedDest(None, name.encode(), None)
    if not dest:
        log.warning("CUPS does not know the queue: %s", _last_error(lib))
        return None
    try:
        d = dest.contents

        def option(key: str) -> str:
            value = lib.cupsGetOption(key.encode(), d.num_options, d.options)
            return value.decode("utf-8", "replace") if value else ""

        accepting = option("printer-is-accepting-jobs").lower() not in ("false", "0")
        enabled = option("printer-state") != str(PRINTER_STOPPED)
        return QueueState(name, accepting, enabled, option("printer-state-reasons"))
    finally:
        lib.cupsFreeDests(1, dest)


def job_state(queue: str, title: str, since: float) -> JobState | None:
    """The state of this user's newest job named `title` on `queue` created at or after
    `since` (a Unix time); None when there is no such job: it never reached the queue."""
    lib = _libcups()
    if lib is None:
        return None
    jobs = ctypes.POINTER(_Job)()
    count = lib.cupsGetJobs2(None, ctypes.byref(jobs), queue.encode(), 1, WHICHJOBS_ALL)
    if count < 0:
        log.warning("cannot list the print jobs: %s", _last_error(lib))
        return None
    try:
        found = [jobs[i] for i in range(count)
                 if (jobs[i].title or b"").decode("utf-8", "replace") == title
                 and jobs[i].creation_time >= int(since) - 1]
        newest = max(found, key=lambda job: job.id, default=None)
        return JobState(newest.state) if newest is not None else None
    finally:
        if count > 0:
            lib.cupsFreeJobs(count, jobs)


def _last_error(lib: Any) -> str:
    text = lib.cupsLastErrorString()
    return text.decode("utf-8", "replace") if text else "unknown error"


FAILED_JOB_STATES = (JobState.CANCELED, JobState.ABORTED, JobState.STOPPED)
