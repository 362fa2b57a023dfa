"""Local stand-ins for the remote APIs, served over real HTTP.

A fake is a WSGI app whose state is a plain Python object, so a test can set up
data, switch on faults and read what was asked. ``serve(fake)`` runs it on
127.0.0.1 in a daemon thread; ``closed_url()`` gives an address where nothing
listens (connection refused). ``FakeClock`` and ``Sleeps`` stand in for time, so
no test ever waits.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Failure:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeService:
    """Fault injection shared by the fakes; subclasses implement ``handle``.

    Switches, checked in this order for every request (each request is recorded
    first, whatever happens to it):

    - ``delay``: seconds to wait before answering (stopping the server cuts it short);
    - ``down``: answer 503, as a service behind a proxy does when the backend is gone;
    - ``fail_next(...)``: answer the next N requests with a given status/body/headers;
    - ``non_json``: answer 200 with an HTML page.
    """

    def __init__(self) -> None:
        self.down = False
        self.delay = 0.0
        self.non_json = False
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self._failures: deque[Failure] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stopping = threading.Event()

    def fail_next(
        self,
        status: int = 500,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests with ``status``. ``body`` may be a dict
        (sent as JSON), a string (sent as is) or None (the API's usual body for that
        status); ``headers`` None means the API's usual ones (Retry-After on a 429)."""
        if body is None:
            body = self.default_error_body(status)
        if headers is None:
            headers = self.default_error_headers(status)
        with self._lock:
            self._failures.extend(Failure(status, body, dict(headers)) for _ in range(times))

    def default_error_body(self, status: int) -> Any:
        return {"errors": [{"status": status, "title": "Error"}]}

    def default_error_headers(self, status: int) -> dict[str, str]:
        return {}

    def wait_for(self, operation: str, timeout: float = 10.0) -> bool:
        """Block until a request for ``operation`` has arrived (or ``timeout`` passes):
        how a test sees a background worker reach the fake without sleeping."""
        with self._arrived:
            return self._arrived.wait_for(
                lambda: operation in (op for op, _, _ in self.requests), timeout
            )

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> bool:
        """Block until ``count`` requests have arrived: a client that gave up waiting
        may have sent one the server has not read yet on a loaded machine."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    @property
    def operations(self) -> list[str]:
        """What each request asked for, in order."""
        return [operation for operation, _, _ in self.requests]

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        operation, variables = self.describe(request)
        with self._lock:
            self.requests.append((operation, variables, dict(request.headers)))
            self._arrived.notify_all()
            failure = self._failures.popleft() if self._failures else None
        if self.delay:
            self._stopping.wait(self.delay)
        if self.down:
            return Response(
                "<html><body>503 Service Unavailable</body></html>", 503, content_type="text/html"
            )
        if failure is not None:
            return respond(failure.body, failure.status, failure.headers)
        if self.non_json:
            return Response(
                "<html><body>Cloudflare says hello</body></html>", 200, content_type="text/html"
            )
        return self.handle(request, operation, variables)

    def describe(self, request: Request) -> tuple[str, dict[str, Any]]:
        """(operation, variables) recorded for a request."""
        return f"{request.method} {request.path}", request.args.to_dict(flat=False)

    def handle(self, request: Request, operation: str, variables: dict[str, Any]) -> Response:
        raise NotImplementedError


class Sleeps(list[float]):
    """Stands in for ``time.sleep``: records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class FakeClock:
    """A clock that moves only when told to, or when something sleeps on it."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, str | bytes):
        return Response(body, status, headers=headers)
    return Response(json.dumps(body), status, headers=headers, content_type="application/json")


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass  # keep test output clean; fake.requests says what happened


def serve(fake: FakeService | Callable) -> tuple[str, Callable[[], None]]:
    """Run ``fake`` (or any WSGI app) on a free port of 127.0.0.1; return (base URL, stop)."""
    server = make_server("127.0.0.1", 0, fake, threaded=True, request_handler=_QuietHandler)
    # A short poll interval keeps stop() quick: shutdown waits for the next poll.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        name="fake-server",
        daemon=True,
    )
    thread.start()

    def stop() -> None:
        if isinstance(fake, FakeService):
            fake._stopping.set()  # release requests parked in ``delay``
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.server_port}", stop


def closed_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
