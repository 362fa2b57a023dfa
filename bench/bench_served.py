"""The hot paths as ``make serve`` runs them: gunicorn with ``gunicorn.conf.py`` (one
gthread worker process here, its default threads, keep-alive), the production app on a
SQLite file (WAL), asked over loopback by a client in another process that keeps its
connection open, as a browser does.

``bench_increment`` and ``bench_catalog`` serve the app inside their own process with
werkzeug, which closes every connection: each request there also pays a TCP handshake
and a new thread, and the client shares the process. Here neither is the case, so
these are the figures a person's clicks and keystrokes meet.

Measured per kind of request, one after another: the round trip (p50, p95) and the
worker process's CPU per request (its user and system time from ``/proc``, over all of
them: gunicorn's own reading and writing of HTTP included, which ``bench_increment``'s
"worker CPU", timed around the app's WSGI call, leaves out); then answers per second
with ``CLIENTS`` clients at once. Floors in the same
run: ``hello_flask`` (a bare Flask app under the same gunicorn: the server's own cost),
then through the app's worker (``bench/load_app.py``): ``bare`` (the app's hooks only),
``signed_in`` and ``api_signed_in`` (let in, user lookup and all, then nothing) and
``durable_write`` (one ``UPDATE … RETURNING`` and commit through the app's engine).
Everything else is reported against them.

Two databases: a library of 5,000 titles (linked to AniList, so every +1 queues a
push) with a catalogue of 20,000 titles; and a catalogue of 200,000.
"""

from __future__ import annotations

import os
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
from sqlalchemy import select

from bench import bench_catalog, bench_increment
from bench.load import Setup, _config, processes
from bench.load_app import API_SIGNED_IN_PATH, BARE_PATH, DURABLE_PATH, SIGNED_IN_PATH
from bench.serve import percentile, throughput
from tests.fakes import closed_url
from tracker.extensions import db
from tracker.models import LibraryItem

REQUESTS = 400
WARMUP = 30
CLIENTS = 4
THROUGHPUT_REQUESTS = 400
WEB = Setup("served", "gunicorn, 1 gthread worker process", web=1, workers=0, postgres=False)
_READY = re.compile(r"load app ready in process (\d+)")


def run() -> dict[str, Any]:
    results: dict[str, Any] = {"server": f"{WEB.title}, keep-alive; SQLite (WAL)",
                               "cpus": os.cpu_count()}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        results.update(_hello(Path(tmp)))
        library_db = Path(tmp) / "library.db"
        ids, queries = _library_database(library_db, catalogue=20_000)
        with _served(library_db, Path(tmp)) as (base, worker):
            results.update(_library_figures(base, worker, ids, queries))
        big_db = Path(tmp) / "catalogue.db"
        _, queries = _library_database(big_db, catalogue=200_000, items=False)
        with _served(big_db, Path(tmp)) as (base, worker):
            asked = _asking(base, worker)
            results.update(_figures("200k_autocomplete", asked.autocomplete(queries)))
            results.update(_figures("200k_api_signed_in", asked.api_signed_in()))
    return results | _ratios(results)


# --- setup --------------------------------------------------------------------------------


def _library_database(path: Path, *, catalogue: int, items: bool = True):
    """The bench_increment library (or only its user) and a generated catalogue; the
    items to click and the autocomplete queries the catalogue answers on its own."""
    app = bench_increment._tracker_app(path, items=items)
    with app.app_context():
        bench_catalog._fill_catalogue(catalogue)
        ids = list(db.session.scalars(select(LibraryItem.id)))
        queries = bench_catalog._local_queries(WARMUP + REQUESTS)
        db.session.remove()
        db.engine.dispose()
    chosen = random.Random(7).choices(ids, k=WARMUP + REQUESTS + THROUGHPUT_REQUESTS) if ids else []
    return chosen, queries


@contextmanager
def _served(
    database: Path, workdir: Path, app: str = "bench.load_app:create()"
) -> Iterator[tuple[str, int]]:
    """gunicorn serving ``app`` on ``database``: (base URL, the worker's process id)."""
    env = _config(f"sqlite:///{database}", None, closed_url())
    logs = workdir / f"{database.stem}-{app.partition(':')[2].strip('()')}"
    logs.mkdir()
    with processes(env, WEB, logs, app) as base:
        yield base, int(_READY.search((logs / "gunicorn.log").read_text())[1])


def _hello(workdir: Path) -> dict[str, float]:
    """A bare Flask "Hello, World!" served the same way: the server's own floor."""
    with _served(workdir / "hello.db", workdir, "bench.load_app:hello()") as (base, worker):
        session = requests.Session()
        measured = _asking.measure_on(worker, lambda n: session.get(f"{base}{BARE_PATH}"))
        return _figures("hello_flask", measured)


# --- asking -------------------------------------------------------------------------------


class _asking:
    """Each kind of request, as a function of its number, on a kept-open connection."""

    def __init__(self, base: str, worker: int) -> None:
        self.base, self.worker = base, worker
        self.api = requests.Session()
        account = {"username": bench_increment.USERNAME, "password": bench_increment.PASSWORD}
        answer = self.api.post(f"{base}/api/auth/token", data=account)
        answer.raise_for_status()
        self.api.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def browser(self) -> tuple[requests.Session, dict[str, str]]:
        session, token = bench_increment.logged_in(self.base)
        return session, {"HX-Request": "true", "X-CSRFToken": token}

    def measure(self, ask: Callable[[int], requests.Response], count: int = REQUESTS) -> dict:
        return self.measure_on(self.worker, ask, count)

    @staticmethod
    def measure_on(
        worker: int, ask: Callable[[int], requests.Response], count: int = REQUESTS
    ) -> dict:
        """Round trips of ``count`` requests one after another, and ``worker``'s CPU
        time per request over them."""
        for n in range(WARMUP):
            _ok(ask(n))
        round_trips = []
        cpu_before = _cpu_seconds(worker)
        for n in range(WARMUP, WARMUP + count):
            started = time.perf_counter()
            _ok(ask(n))
            round_trips.append((time.perf_counter() - started) * 1000)
        cpu = (_cpu_seconds(worker) - cpu_before) * 1000 / count
        return {"round_trips": round_trips, "cpu_ms": cpu}

    def autocomplete(self, queries: list[dict[str, str]]) -> dict:
        url = f"{self.base}/api/sources/autocomplete"
        return self.measure(lambda n: self.api.get(url, params=queries[n]), len(queries) - WARMUP)

    def api_signed_in(self) -> dict:
        return self.measure(lambda n: self.api.post(f"{self.base}{API_SIGNED_IN_PATH}", json={}))


def _library_figures(base: str, worker: int, ids: list[int], queries: list) -> dict[str, Any]:
    asked = _asking(base, worker)
    browser, headers = asked.browser()
    api = asked.api

    def increment(n: int) -> requests.Response:
        item = {**headers, "HX-Target": f"item-{ids[n]}"}
        return browser.post(f"{base}/items/{ids[n]}/increment", data={"by": "1"}, headers=item)

    def increment_json(n: int) -> requests.Response:
        return api.post(f"{base}/api/library/items/{ids[n]}/increment", json={"by": 1})

    def durable(n: int) -> requests.Response:
        return browser.post(base + DURABLE_PATH.format(item_id=ids[n]), headers=headers)

    kinds: dict[str, Callable[[int], requests.Response]] = {
        "bare": lambda n: browser.get(f"{base}{BARE_PATH}"),
        "signed_in": lambda n: browser.post(
            f"{base}{SIGNED_IN_PATH}", data={"by": "1"}, headers=headers
        ),
        "api_signed_in": lambda n: api.post(f"{base}{API_SIGNED_IN_PATH}", json={"by": 1}),
        "durable_write": durable,
        "increment": increment,
        "increment_json": increment_json,
    }
    figures: dict[str, Any] = {}
    for name, ask in kinds.items():
        figures |= _figures(name, asked.measure(ask))
        figures[f"{name}_throughput_per_s"] = throughput(
            ask, WARMUP + REQUESTS, CLIENTS, THROUGHPUT_REQUESTS
        )
    return figures | _figures("20k_autocomplete", asked.autocomplete(queries))


def _ok(answer: requests.Response) -> None:
    assert answer.status_code == 200, (answer.status_code, answer.text[:200])


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- figures ------------------------------------------------------------------------------


def _figures(name: str, measured: dict) -> dict[str, float]:
    trips = measured["round_trips"]
    return {
        f"{name}_round_trip_p50_ms": round(statistics.median(trips), 2),
        f"{name}_round_trip_p95_ms": round(percentile(trips, 95), 2),
        f"{name}_worker_cpu_ms": round(measured["cpu_ms"], 2),
    }


def _ratios(r: dict[str, Any]) -> dict[str, float]:
    """Each path against its floors, in this run."""
    out: dict[str, float] = {}
    for name in ("increment", "increment_json"):
        out[f"{name}_cpu_vs_durable_write"] = r[f"{name}_worker_cpu_ms"] / r[
            "durable_write_worker_cpu_ms"]  # fmt: skip
        out[f"{name}_throughput_vs_durable_write"] = r[f"{name}_throughput_per_s"] / r[
            "durable_write_throughput_per_s"]  # fmt: skip
    for size, floor in (("20k", "api_signed_in"), ("200k", "200k_api_signed_in")):
        out[f"{size}_autocomplete_p95_vs_api_signed_in"] = (
            r[f"{size}_autocomplete_round_trip_p95_ms"] / r[f"{floor}_round_trip_p95_ms"]
        )
    return {key: round(value, 2) for key, value in out.items()}
