"""What one click on + costs the server, on a library of 5,000 AniList titles of a
user linked to AniList (so every +1 also queues a push): the row from the page (htmx,
session cookie and CSRF) and the item from the JSON API (bearer JWT).

Floors are taken in the same run, under the same server (werkzeug, threaded,
127.0.0.1), asked the same way (a ``requests`` session with htmx and CSRF headers):
a bare Flask app answering "ok", and a "one durable write" app whose route runs a
single ``UPDATE … RETURNING`` and commit on the same database file through the same
engine: the least a durable +1 can cost. Two more are routes of the app itself that
do nothing once the caller is let in: a signed-in browser POST (cookie session, CSRF,
the user lookup) and a bearer-JWT POST: the least any click costs in this stack
before it does anything. "Server time" is measured around the WSGI
call inside the server, "worker CPU" is the handling thread's CPU time
(``time.thread_time``), and throughput is answers per second with ``CLIENTS`` clients
clicking at once. Figures are reported as ratios against the floors.
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
from flask_login import login_required
from flask_migrate import upgrade
from sqlalchemy import insert, select

from bench.load_app import durable_write
from bench.serve import percentile, serve, statements_counted, throughput
from tracker import create_app
from tracker.api import access
from tracker.extensions import csrf, db
from tracker.models import AniListAccount, LibraryItem, Media, utcnow
from tracker.services import accounts

ITEMS = 5_000
REQUESTS = 300
WARMUP = 20
CLIENTS = 4  # clicking at once, for throughput
THROUGHPUT_REQUESTS = 400
USERNAME, PASSWORD = "bench", "bench-password"


class Timed:
    """WSGI middleware: wall and CPU time the app takes to produce each response."""

    def __init__(self, wsgi_app: Callable) -> None:
        self.wsgi_app = wsgi_app
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []
        self.paths: list[str] = []

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        started, cpu_started = time.perf_counter(), time.thread_time()
        body = list(self.wsgi_app(environ, start_response))
        self.cpu_seconds.append(time.thread_time() - cpu_started)
        self.seconds.append(time.perf_counter() - started)
        self.paths.append(environ["PATH_INFO"])
        return body

    def clear(self) -> None:
        self.seconds.clear()
        self.cpu_seconds.clear()
        self.paths.clear()

    def of(self, path: str) -> tuple[list[float], list[float]]:
        """(seconds, CPU seconds) of the requests for ``path``, in order."""
        kept = [k for k, asked in enumerate(self.paths) if asked == path]
        return [self.seconds[k] for k in kept], [self.cpu_seconds[k] for k in kept]


def _tracker_app(database: Path, *, items: bool = True) -> Flask:
    """The app on ``database``, migrated, with the bench user linked to AniList and
    (``items``) their library of ``ITEMS`` titles."""
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
        db.session.add(AniListAccount(user_id=user.id, anilist_user_id=1, name=USERNAME,
                                      access_token_encrypted="unused"))  # fmt: skip
        db.session.commit()
        if not items:
            db.session.remove()
            return app
        now = utcnow()
        db.session.execute(
            insert(Media),
            [{"source": "anilist", "external_id": str(n), "anilist_id": n, "synonyms": [],
              "media_type": "anime" if n % 2 else "manga", "title_preferred": f"Title {n:05d}",
              "search_text": f"title {n:05d}", "episodes": 500, "chapters": 500}
             for n in range(ITEMS)],
        )  # fmt: skip
        media = db.session.execute(select(Media.id, Media.media_type, Media.anilist_id)).all()
        db.session.execute(
            insert(LibraryItem),
            [{"user_id": user.id, "media_id": media_id, "media_type": media_type,
              "title": f"Title {n:05d}", "status": "current", "progress": n % 40,
              "repeat": 0, "private": False, "created_at": now, "updated_at": now,
              "custom_lists": []}
             for media_id, media_type, n in media],
        )  # fmt: skip
        db.session.commit()
        db.session.remove()
    return app


def logged_in(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.ok and "Log out" in answer.text, "login failed"  # on up next or the library
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
    server, cpu = timed.seconds[-REQUESTS:], timed.cpu_seconds[-REQUESTS:]
    return {
        **_stats("server", server),
        **_stats("round_trip", round_trips),
        **_stats("worker_cpu", cpu),
        "throughput_per_s": throughput(ask, WARMUP + REQUESTS, CLIENTS, THROUGHPUT_REQUESTS),
    }


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


def _item_ids(app: Flask) -> list[int]:
    """Items to click, spread over the library (each a few times at most)."""
    with app.app_context():
        ids = list(db.session.scalars(db.select(LibraryItem.id)))
        db.session.remove()
    return random.Random(7).choices(ids, k=WARMUP + REQUESTS + THROUGHPUT_REQUESTS)


def _increment(base: str, app: Flask, timed: Timed) -> dict[str, float]:
    chosen = _item_ids(app)
    session, token = logged_in(base)

    def click(n: int) -> requests.Response:
        item_id = chosen[n]
        headers = {"HX-Request": "true", "X-CSRFToken": token, "HX-Target": f"item-{item_id}"}
        return session.post(f"{base}/items/{item_id}/increment", data={"by": "1"}, headers=headers)

    with counting(app) as statements:
        measured = _measure(timed, click)
    return {**measured, "statements_per_request": statements[0] / len(timed.seconds)}


def _increment_json(base: str, app: Flask, timed: Timed) -> dict[str, float]:
    """The same click from a script: ``POST /api/library/items/<id>/increment`` with a
    bearer JWT, answered with the item as JSON."""
    chosen = _item_ids(app)
    session = requests.Session()
    answer = session.post(f"{base}/api/auth/token", data={"username": USERNAME,
                                                          "password": PASSWORD})  # fmt: skip
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def click(n: int) -> requests.Response:
        return session.post(f"{base}/api/library/items/{chosen[n]}/increment", json={"by": 1})

    with counting(app) as statements:
        measured = _measure(timed, click)
    return {**measured, "statements_per_request": statements[0] / len(timed.seconds)}


def _add_signed_in_floors(app: Flask) -> None:
    """Routes that let the caller in and do nothing else (see the module's docstring)."""

    # Named functions: CSRF exemptions go by module and name, and all lambdas share one.
    def signed_in() -> str:
        return ""

    def api_signed_in() -> dict:
        return {}

    app.add_url_rule("/bench/signed-in", "bench_signed_in", login_required(signed_in),
                     methods=["POST"])  # fmt: skip
    api_noop = csrf.exempt(access.login_required(api_signed_in))
    app.add_url_rule("/bench/api-signed-in", "bench_api_signed_in", api_noop, methods=["POST"])


def _signed_in_noop(base: str, app: Flask, timed: Timed) -> dict[str, float]:
    session, token = logged_in(base)
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    with counting(app):
        return _measure(timed, lambda n: session.post(f"{base}/bench/signed-in", data={"by": "1"},
                                                      headers=headers))  # fmt: skip


def _api_signed_in_noop(base: str, app: Flask, timed: Timed) -> dict[str, float]:
    session = requests.Session()
    answer = session.post(f"{base}/api/auth/token", data={"username": USERNAME,
                                                          "password": PASSWORD})  # fmt: skip
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    with counting(app):
        return _measure(
            timed, lambda n: session.post(f"{base}/bench/api-signed-in", json={"by": 1})
        )


@contextmanager
def counting(app: Flask) -> Iterator[list[int]]:
    """Statements the app runs inside the block, in ``[0]``; requests timed from now."""
    app.wsgi_app.clear()
    with statements_counted(app) as count:
        yield count


def _durable_write(app: Flask) -> dict[str, float]:
    """The floor for a durable +1: one UPDATE … RETURNING and commit, same file, same engine."""
    with app.app_context():
        engine = db.engine
    floor = Flask("durable_write")

    @floor.post("/items/<int:item_id>/increment")
    def write(item_id: int) -> str:
        return durable_write(engine, item_id)

    timed = Timed(floor.wsgi_app)
    floor.wsgi_app = timed
    chosen = _item_ids(app)
    session = requests.Session()
    headers = {"HX-Request": "true", "X-CSRFToken": "x"}
    with serving(floor) as base:
        return _measure(timed, lambda n: session.post(
            f"{base}/items/{chosen[n]}/increment", data={"by": "1"}, headers=headers))  # fmt: skip


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
        _add_signed_in_floors(app)
        timed = Timed(app.wsgi_app)
        app.wsgi_app = timed
        with serving(app) as base:
            increment = _increment(base, app, timed)
            increment_json = _increment_json(base, app, timed)
            signed_in = _signed_in_noop(base, app, timed)
            api_signed_in = _api_signed_in_noop(base, app, timed)
        durable = _durable_write(app)
        with app.app_context():
            db.engine.dispose()
    baseline = _baseline()
    return {
        "items_in_library": ITEMS,
        "requests": REQUESTS,
        "server": "werkzeug make_server, threaded, 127.0.0.1; SQLite in a temp file (WAL)",
        "cpus": os.cpu_count(),
        "cpu": _cpu(),
        **{f"increment_{key}": value for key, value in increment.items()},
        **{f"increment_json_{key}": value for key, value in increment_json.items()},
        **{f"signed_in_noop_{key}": value for key, value in signed_in.items()},
        **{f"api_signed_in_noop_{key}": value for key, value in api_signed_in.items()},
        **{f"durable_write_{key}": value for key, value in durable.items()},
        **{f"bare_flask_{key}": value for key, value in baseline.items()},
        "server_median_vs_bare": increment["server_median_ms"] / baseline["server_median_ms"],
        "server_median_vs_durable": increment["server_median_ms"] / durable["server_median_ms"],
        "worker_cpu_median_vs_durable": increment["worker_cpu_median_ms"]
        / durable["worker_cpu_median_ms"],
        "throughput_vs_durable": increment["throughput_per_s"] / durable["throughput_per_s"],
        "json_worker_cpu_median_vs_durable": increment_json["worker_cpu_median_ms"]
        / durable["worker_cpu_median_ms"],
        "json_throughput_vs_durable": increment_json["throughput_per_s"]
        / durable["throughput_per_s"],
        # What the +1 itself costs above letting the caller in, against what the durable
        # write costs above a bare answer: the work, with each stack's floor taken away.
        "own_cpu_ms": increment["worker_cpu_median_ms"] - signed_in["worker_cpu_median_ms"],
        "json_own_cpu_ms": increment_json["worker_cpu_median_ms"]
        - api_signed_in["worker_cpu_median_ms"],
        "durable_write_own_cpu_ms": durable["worker_cpu_median_ms"]
        - baseline["worker_cpu_median_ms"],
    }
