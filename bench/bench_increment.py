"""What one click on + costs the server, on a library of 5,000 items.

The real app and a bare Flask app (one route answering "ok") run under the same
server (werkzeug, threaded, 127.0.0.1) and are asked the same way: a
``requests`` session with the login cookie, htmx headers and the CSRF header.
"Server time" is measured around the WSGI call inside the server, so the client
and the socket do not count; the round trip seen by the client is reported too.
"""

from __future__ import annotations

import os
import platform
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert

from bench.serve import percentile, serve
from tracker import create_app
from tracker.extensions import db
from tracker.models import LibraryItem, utcnow
from tracker.services import accounts

ITEMS = 5_000
REQUESTS = 300
WARMUP = 20
USERNAME, PASSWORD = "bench", "bench-password"


class Timed:
    """WSGI middleware: how long the app takes to produce each response."""

    def __init__(self, wsgi_app: Callable) -> None:
        self.wsgi_app = wsgi_app
        self.seconds: list[float] = []

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        started = time.perf_counter()
        body = list(self.wsgi_app(environ, start_response))
        self.seconds.append(time.perf_counter() - started)
        return body


def _tracker_app(database: Path) -> Flask:
    app = create_app(
        {
            "ENV": "development",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "bench-secret-key-long-enough-for-hs256-signing",
            "DEMO_USER": False,
            "INPROCESS_WORKER": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        user = accounts.register(USERNAME, PASSWORD)
        now = utcnow()
        db.session.execute(
            insert(LibraryItem),
            [
                {"user_id": user.id, "media_type": "anime" if n % 2 else "manga",
                 "title": f"Title {n:05d}", "status": "current", "progress": n % 40,
                 "repeat": 0, "private": False, "created_at": now, "updated_at": now}
                for n in range(ITEMS)
            ],
        )  # fmt: skip
        db.session.commit()
        db.session.remove()
    return app


def _logged_in(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.ok and "Your library" in answer.text, "login failed"
    return session, token


def _measure(timed: Timed, ask: Callable[[int], requests.Response]) -> dict[str, float]:
    round_trips = []
    for n in range(WARMUP + REQUESTS):
        started = time.perf_counter()
        response = ask(n)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (response.status_code, response.text[:200])
        if n >= WARMUP:
            round_trips.append(elapsed)
    server = timed.seconds[-REQUESTS:]
    return {**_stats("server", server), **_stats("round_trip", round_trips)}


def _stats(name: str, seconds: list[float]) -> dict[str, float]:
    milliseconds = [s * 1000 for s in seconds]
    return {
        f"{name}_median_ms": statistics.median(milliseconds),
        f"{name}_p95_ms": percentile(milliseconds, 95),
    }


@contextmanager
def serving(app: Callable) -> Iterator[str]:
    base, stop = serve(app)
    try:
        yield base
    finally:
        stop()


def _increment(base: str, app: Flask) -> dict[str, float]:
    timed = Timed(app.wsgi_app)
    app.wsgi_app = timed
    with app.app_context():
        ids = list(db.session.scalars(db.select(LibraryItem.id)))
        db.session.remove()
    chosen = random.Random(7).sample(ids, WARMUP + REQUESTS)  # spread over the library
    session, token = _logged_in(base)

    def click(n: int) -> requests.Response:
        item_id = chosen[n]
        headers = {"HX-Request": "true", "X-CSRFToken": token, "HX-Target": f"item-{item_id}"}
        return session.post(f"{base}/items/{item_id}/increment", data={"by": "1"}, headers=headers)

    timed.seconds.clear()
    return _measure(timed, click)


def _baseline() -> dict[str, float]:
    bare = Flask("baseline")
    bare.add_url_rule("/ok", "ok", lambda: "ok", methods=["POST"])
    timed = Timed(bare.wsgi_app)
    bare.wsgi_app = timed
    session = requests.Session()
    headers = {"HX-Request": "true", "X-CSRFToken": "x"}
    with serving(bare) as base:
        return _measure(timed, lambda n: session.post(f"{base}/ok", data={"by": "1"},
                                                        headers=headers))  # fmt: skip


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        app = _tracker_app(Path(tmp) / "bench.db")
        with serving(app) as base:
            increment = _increment(base, app)
        with app.app_context():
            db.engine.dispose()
    baseline = _baseline()
    return {
        "items_in_library": ITEMS,
        "requests": REQUESTS,
        "server": "werkzeug make_server, threaded, 127.0.0.1; SQLite in a temp file",
        "cpus": os.cpu_count(),
        "cpu": _cpu(),
        **{f"increment_{key}": value for key, value in increment.items()},
        **{f"bare_flask_{key}": value for key, value in baseline.items()},
        "server_median_ratio": increment["server_median_ms"] / baseline["server_median_ms"],
        "server_p95_ratio": increment["server_p95_ms"] / baseline["server_p95_ms"],
    }
