"""A real TCP proxy on 127.0.0.1 in front of the central service, for fault injection.

The sync's dangerous moments are on the wire: the service committed a batch but its answer never
reached the workstation; a request arrives twice, or late, after a newer one. Mocks would only
show what the mock's author imagined, so the tests put this proxy between a real client and the
real service process and tell it which requests to mistreat.

It understands just enough HTTP/1.1 to find where a request ends (headers and Content-Length):
each request is sent upstream on its own connection with `Connection: close`, so an answer ends
where the service closes the connection, and a request can be replayed or held as a whole.
One request per client connection; the client's HTTP library opens a new one for the next.
"""

from __future__ import annotations

import contextlib
import enum
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HEAD_END = b"\r\n\r\n"
MAX_HEAD = 64 * 1024


class Fault(enum.Enum):
    """What the proxy does to a matching request."""

    # Forward the request, wait until the service starts answering, then cut both connections:
    # the service committed, the client never sees a byte of the answer.
    DROP_WHEN_ANSWER_STARTS = "drop-when-answer-starts"
    # Forward the request, read the service's whole answer, then cut the client's connection.
    DROP_AFTER_ANSWER = "drop-after-answer"
    # Deliver the request twice, one after the other; the client gets the second answer.
    DUPLICATE = "duplicate"
    # Deliver the request twice at the same moment; the client gets the first answer.
    DUPLICATE_CONCURRENT = "duplicate-concurrent"
    # Keep the request until `release()`; then deliver it (its client may have given up).
    HOLD = "hold"


@dataclass
class _Rule:
    path: str
    fault: Fault
    remaining: int


@dataclass
class Request:
    """One request as it passed the proxy."""

    method: str
    path: str
    fault: Fault | None
    head: bytes = field(repr=False)
    body: bytes = field(repr=False)

    def upstream_bytes(self) -> bytes:
        """The request with `Connection: close`, so the service ends its answer by closing."""
        lines = self.head.split(b"\r\n")
        kept = [line for line in lines[1:] if not line.lower().startswith(b"connection:")]
        return b"\r\n".join([lines[0], *kept, b"Connection: close"]) + HEAD_END + self.body


class TcpProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to the service on `upstream_port`."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._threads: list[threading.Thread] = []  # the requests' (not the acceptor)
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._closing = False
        self.requests: list[Request] = []
        # Called with the request once it was sent to the service (e.g. to kill it then).
        self.on_forward: Callable[[Request], None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._closing = True
        self._released.set()
        with contextlib.suppress(OSError):  # wakes the blocked accept() (close alone does not)
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._acceptor.join(timeout=10)
        self.wait_idle(timeout=10)

    def wait_idle(self, timeout: float = 30) -> None:
        """Wait until every request taken so far has been dealt with."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def arm(self, path: str, fault: Fault, times: int = 1) -> None:
        """Mistreat the next `times` requests whose path starts with `path`."""
        with self._lock:
            self._rules.append(_Rule(path, fault, times))
            if fault is Fault.HOLD:
                self._released.clear()

    def release(self) -> None:
        """Let held requests go on."""
        self._released.set()

    def faults(self, fault: Fault) -> list[Request]:
        """The requests that got `fault` so far (a test checks its fault really happened)."""
        with self._lock:
            return [r for r in self.requests if r.fault is fault]

    # --- the proxy's threads -------------------------------------------------------------

    def _spawn(self, target: Callable[..., object], *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed: stop()
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        with client:
            request = _read_request(client)
            if request is None:
                return
            request.fault = self._fault_for(request.path)
            with self._lock:
                self.requests.append(request)
            try:
                self._handle(client, request)
            except OSError:
                _abort(client)

    def _fault_for(self, path: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining > 0 and path.startswith(rule.path):
                    rule.remaining -= 1
                    return rule.fault
        return None

    def _handle(self, client: socket.socket, request: Request) -> None:
        fault = request.fault
        if fault is Fault.HOLD:
            self._released.wait()
        if fault is Fault.DROP_WHEN_ANSWER_STARTS:
            self._exchange(request, first_bytes_only=True)
            _abort(client)
            return
        if fault is Fault.DUPLICATE:
            self._exchange(request)
        answer = (self._twice_at_once(request) if fault is Fault.DUPLICATE_CONCURRENT
                  else self._exchange(request))
        if fault is Fault.DROP_AFTER_ANSWER:
            _abort(client)
            return
        # A held request's client may have given up waiting; the service answered anyway.
        with contextlib.suppress(OSError):
            client.sendall(answer)

    def _twice_at_once(self, request: Request) -> bytes:
        other = self._spawn(self._exchange, request)
        answer = self._exchange(request)
        other.join(timeout=120)
        return answer

    def _exchange(self, request: Request, *, first_bytes_only: bool = False) -> bytes:
        """Send the request on a new connection and read the answer (to its end, or only its
        first bytes)."""
        with socket.create_connection(self.upstream, timeout=120) as upstream:
            upstream.sendall(request.upstream_bytes())
            if self.on_forward is not None:
                self.on_forward(request)
            chunks: list[bytes] = []
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if first_bytes_only:
                    _abort(upstream)
                    break
        return b"".join(chunks)


def _read_request(client: socket.socket) -> Request | None:
    """One whole request from the client, or None if it closed the connection first."""
    data = b""
    while HEAD_END not in data:
        chunk = client.recv(65536)
        if not chunk or len(data) > MAX_HEAD:
            return None
        data += chunk
    head, body = data.split(HEAD_END, 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            return None
        body += chunk
    method, path, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
    return Request(method, path, None, head, body[:length])


def _abort(sock: socket.socket) -> None:
    """Cut a connection hard (RST, no orderly close): what a dying network or process does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
