"""Shared by the benchmarks: serve a WSGI app on loopback, time requests, summarise."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.serving import WSGIRequestHandler, make_server

from tracker.extensions import db


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass  # a benchmark prints its figures, not an access log


def serve(app: Callable[..., Any]) -> tuple[str, Callable[[], None]]:
    """Run ``app`` (threaded) on a free port of 127.0.0.1; return (base URL, stop)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="bench-server"
    )
    thread.daemon = True
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.server_port}", stop


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    """(milliseconds, result) of one call."""
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000.0, result


def throughput(
    ask: Callable[[int], Any], first: int, clients: int = 4, requests: int = 400
) -> float:
    """Answers per second with ``clients`` threads asking at once, ``requests`` in all:
    ``ask(n)`` for each ``n`` from ``first`` on, once; every answer must be a 200."""
    per_client = requests // clients
    start = threading.Barrier(clients + 1)
    failures: list[int] = []

    def client(number: int) -> None:
        start.wait()
        for n in range(per_client):
            status = ask(first + number * per_client + n).status_code
            if status != 200:
                failures.append(status)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert not failures, failures[:5]
    return per_client * clients / elapsed


def percentile(samples: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (0 < p <= 100) of ``samples``."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


@contextmanager
def statements_counted(app: Flask) -> Iterator[list[int]]:
    """How many statements the app's engine runs inside the block, in ``[0]``."""
    count = [0]

    def one(*_args: Any) -> None:
        count[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", one)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", one)
