"""``make load``: the app as it runs in production, under load, on this machine.

For each setup: a fresh database (the Alembic revisions), USERS accounts, each with a
library of LINKED titles on AniList (each +1 queues a push) and UNLINKED ones, each
account connected to the fake AniList, which runs here as a real HTTP server. Then
gunicorn (``bench.load_app:app``: the production app plus a bare route) with N web
workers and M ``flask tracker worker`` processes, and locust (bench/locustfile.py)
driving USERS simulated people over loopback for a fixed timeline.

Setups: (a) SQLite with 2 web workers and 1 worker process (the worker always runs
as its own process here, as in production); (b) PostgreSQL (LOAD_DATABASE_URL, the
database ``load``) and Redis (LOAD_REDIS_URL) with 4 web workers and 2 worker
processes, skipped with a message when either is not there.

Printed per request kind: throughput alone and p50/p99 and errors alone and in the
mix, each as a ratio to the bare route measured in the same run, on the same server.
Then, once the outbox has drained (polled, bounded), the checks:

- no lost increment: for every item, final progress - initial progress equals the +1s
  the server answered 200 (every +1 was answered, or the run has failed already);
- every change reached AniList: for every linked item, the fake's entry has the final
  local progress, and the outbox is empty with nothing parked as failed;
- exactly once per coalesced change: the outbox keeps one row per item and the worker
  sends the item as it is when it sends, so several +1s may go as one save. A save is
  a delivery of the state it carries; "exactly once" means no state is delivered
  twice: per entry, the progress values of successive SaveMediaListEntry requests
  the fake recorded strictly increase (only +1s happen), and no new entry is created
  (every save names the existing entry's id).

Exit status 1 on any error, failed check or traceback in a log. Timings are seconds,
scaled by LOAD_SCALE (e.g. 0.5 for a quick look); LOAD_USERS sets the number of people;
LOAD_KEEP=1 keeps the logs (gunicorn's, its access log, the workers', locust's).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import redis
import requests
from cryptography.fernet import Fernet
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, insert, select, text

from bench.load_app import BARE_PATH, READY
from bench.serve import percentile
from tests.fakes import serve
from tests.fakes.anilist import FakeAniList
from tracker import create_app
from tracker.extensions import db
from tracker.models import AniListAccount, LibraryItem, Media, SyncOutbox, utcnow
from tracker.services import accounts, crypto

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
USERS = int(os.environ.get("LOAD_USERS", 10))
LINKED, UNLINKED = 20, 10  # items per library
PASSWORD = "load-password-1234"
SCALE = float(os.environ.get("LOAD_SCALE", 1.0))
WARMUP, ALONE, MIXED = 3.0 * SCALE, 3.0 * SCALE, 20.0 * SCALE
START_TIMEOUT = 180.0  # seconds for every process to be ready (a busy machine is slow)
DRAIN_TIMEOUT = 60.0  # seconds for the outbox to empty after the load
PG_URL = os.environ.get("LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/load")
# A database number of its own, emptied before the run (the tests use 0).
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/9")
# Cheap password hashes: sign-ins are not what is measured.
HASH_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
KINDS = ("bare", "list", "increment", "search", "item", "status")


@dataclass(frozen=True)
class Setup:
    name: str
    title: str
    web: int
    workers: int
    postgres: bool


SETUPS = (
    Setup("a", "SQLite (WAL), 2 web workers x 4 threads, 1 worker process", 2, 1, False),
    Setup("b", "PostgreSQL + Redis, 4 web workers x 4 threads, 2 worker processes", 4, 2, True),
)


@dataclass
class Library:
    """What was prepared: the items' first progress, and the fake's entry of each linked one."""

    progress: dict[int, int]
    entries: dict[int, int]  # item id -> AniList entry id
    users: list[dict[str, Any]]


# --- preparing --------------------------------------------------------------------------


def _config(url: str, redis_url: str | None, anilist_url: str) -> dict[str, str]:
    """The TRACKER_* environment of every process of a run."""
    values = {
        "ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback
        "SQLALCHEMY_DATABASE_URI": url,
        "ANILIST_GRAPHQL_URL": anilist_url,
        # The fake has no limit: the budget must not be what the drain waits for.
        "ANILIST_RATE_PER_MINUTE": "60000",
        "ANILIST_PULL_INTERVAL": "0",  # pushes only: the fake's state is ours to check
        "RATELIMIT_ENABLED": "false",  # every simulated person comes from 127.0.0.1
        "PASSWORD_HASH_PARAMS": json.dumps(HASH_PARAMS),
        "DEMO_USER": "false",
        "INPROCESS_WORKER": "false",
    }
    if redis_url:
        values["REDIS_URL"] = redis_url
    return {f"TRACKER_{key}": value for key, value in values.items()}


def _app(env: dict[str, str]) -> Flask:
    """The app in this process, for preparing and checking: the same settings, parsed
    as ``from_prefixed_env`` parses them."""
    overrides = {}
    for key, value in env.items():
        try:
            overrides[key.removeprefix("TRACKER_")] = json.loads(value)
        except ValueError:
            overrides[key.removeprefix("TRACKER_")] = value
    return create_app(overrides)


def _fresh_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def prepare(app: Flask, fake: FakeAniList) -> Library:
    """Migrate, then USERS people with a library each, connected to the fake AniList."""
    progress, entries, people = {}, {}, []
    with app.app_context():
        upgrade()
        titles = fake.add_media(LINKED)
        for title in titles:  # still airing, no total: +1 is never refused at a last episode
            title["episodes"] = None
        db.session.execute(
            insert(Media),
            [{"source": "anilist", "external_id": str(m["id"]), "anilist_id": m["id"],
              "media_type": "anime", "title_preferred": m["title"]["romaji"],
              "title_romaji": m["title"]["romaji"], "search_text": m["title"]["romaji"].lower(),
              "synonyms": []} for m in titles],
        )  # fmt: skip
        media = dict(db.session.execute(select(Media.anilist_id, Media.id)).all())
        now = utcnow()
        for k in range(USERS):
            user = accounts.register(f"load{k}", PASSWORD)
            remote = fake.add_user(f"load{k}")
            db.session.add(AniListAccount(
                user_id=user.id, anilist_user_id=remote.id, name=remote.name,
                access_token_encrypted=crypto.encrypt(fake.issue_token(remote.id))))  # fmt: skip
            rows = []
            for n, title in enumerate(titles):
                entry = fake.add_entry(remote.id, title["id"], status="CURRENT", progress=n)
                rows.append({"media_id": media[title["id"]], "title": title["title"]["romaji"],
                             "progress": n, "anilist_entry_id": entry.id})  # fmt: skip
            rows += [{"media_id": None, "title": f"Home video {n}", "progress": n,
                      "anilist_entry_id": None} for n in range(UNLINKED)]  # fmt: skip
            created = db.session.execute(
                insert(LibraryItem).returning(LibraryItem.id, LibraryItem.progress,
                                              LibraryItem.anilist_entry_id),
                [{**row, "user_id": user.id, "media_type": "anime", "status": "current",
                  "repeat": 0, "private": False, "created_at": now, "updated_at": now,
                  "custom_lists": []} for row in rows],
            ).all()  # fmt: skip
            for item_id, first, entry_id in created:
                progress[item_id] = first
                if entry_id is not None:
                    entries[item_id] = entry_id
            people.append({"username": user.username, "items": [row[0] for row in created]})
        db.session.commit()
        db.session.remove()
    return Library(progress, entries, people)


# --- running ----------------------------------------------------------------------------


@contextmanager
def processes(
    env: dict[str, str], setup: Setup, workdir: Path, app: str = "bench.load_app:create()"
) -> Iterator[str]:
    """gunicorn serving ``app`` on a socket bound here (no port race) and the worker
    processes; stopped with SIGTERM and waited for on the way out. Yields the base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.set_inheritable(True)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    web_env = {**os.environ, **env, "WEB_CONCURRENCY": str(setup.web),
               "TRACKER_BIND": f"fd://{listener.fileno()}"}  # fmt: skip
    started: list[subprocess.Popen] = []
    logs = ExitStack()

    def start(command: list[str], log_name: str, **options: Any) -> None:
        log = logs.enter_context((workdir / log_name).open("wb"))
        started.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, **options))

    try:
        start([PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile",
               str(workdir / "access.log"), app],
              "gunicorn.log", env=web_env, pass_fds=[listener.fileno()])  # fmt: skip
        for n in range(setup.workers):
            start([PYTHON, "-m", "flask", "--app", "wsgi", "tracker", "worker"],
                  f"worker{n}.log", env={**os.environ, **env})  # fmt: skip

        def ready() -> bool:
            """Every web worker has built its app, every worker process runs, and
            gunicorn answers: nothing is still starting when the timeline begins."""
            logs = [(workdir / f"worker{n}.log").read_text() for n in range(setup.workers)]
            return (
                (workdir / "gunicorn.log").read_text().count(READY) >= setup.web
                and all("Worker running" in log for log in logs)
                and _answers(base)
            )

        _wait_until(ready, START_TIMEOUT, "gunicorn and the workers to start", started)
        yield base
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        logs.close()
        listener.close()


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _wait_until(
    ready: Callable[[], bool], timeout: float, what: str, watched: list[subprocess.Popen] = ()
) -> float:
    """Poll ``ready`` until true; seconds it took. Fails after ``timeout`` or when a
    watched process has ended."""
    started = time.monotonic()
    while not ready():
        if any(process.poll() is not None for process in watched):
            raise RuntimeError(f"a process ended while waiting for {what}")
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"gave up waiting {timeout:.0f} s for {what}")
        time.sleep(0.05)  # a poll interval, not a wait for something to happen
    return time.monotonic() - started


def drive(base: str, library: Library, workdir: Path) -> dict[str, Any]:
    plan = {"users": library.users, "password": PASSWORD, "bare_path": BARE_PATH,
            "search_terms": ["generated", "anime 1", "generated anime 2", "zzz nothing"],
            "warmup": WARMUP, "alone": ALONE, "mixed": MIXED,
            "result": str(workdir / "result.json")}  # fmt: skip
    (workdir / "plan.json").write_text(json.dumps(plan))
    # The locustfile ends the run when its timeline is over; this only bounds it.
    run_time = WARMUP + len(KINDS) * ALONE + MIXED + START_TIMEOUT
    with (workdir / "locust.log").open("wb") as log:
        subprocess.run(
        [PYTHON, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
         "--users", str(USERS), "--spawn-rate", str(USERS), "--run-time", f"{run_time:.0f}s",
         "--stop-timeout", "30", "--host", base, "--only-summary", "--loglevel", "ERROR",
         "--exit-code-on-error", "0"],
        cwd=ROOT, env={**os.environ, "LOAD_PLAN": str(workdir / "plan.json")}, check=True,
        stdout=log, stderr=log,
    )  # fmt: skip
    return json.loads((workdir / "result.json").read_text())


# --- checking ---------------------------------------------------------------------------


def drain(app: Flask) -> float:
    """Seconds until the outbox held nothing due (failed rows are the checks' business)."""

    def drained() -> bool:
        with app.app_context():
            waiting = db.session.scalar(
                select(func.count()).select_from(SyncOutbox).where(SyncOutbox.failed_at.is_(None))
            )
            db.session.remove()
        return waiting == 0

    return _wait_until(drained, DRAIN_TIMEOUT, "the outbox to drain")


def check(app: Flask, fake: FakeAniList, library: Library, result: dict) -> list[str]:
    problems = []
    acked = Counter({int(k): v for k, v in result["acked"].items()})
    sent = Counter({int(k): v for k, v in result["sent"].items()})
    with app.app_context():
        final = dict(db.session.execute(select(LibraryItem.id, LibraryItem.progress)).all())
        parked = db.session.execute(select(SyncOutbox.item_id, SyncOutbox.last_error)).all()
        db.session.remove()
    lost = [i for i, first in library.progress.items() if final[i] - first < acked[i]]
    extra = [i for i, first in library.progress.items() if final[i] - first > sent[i]]
    if lost:
        problems.append(f"lost increments on {len(lost)} items (e.g. item {lost[0]}: "
                        f"{final[lost[0]] - library.progress[lost[0]]} applied, "
                        f"{acked[lost[0]]} acknowledged)")  # fmt: skip
    if extra:
        problems.append(f"{len(extra)} items moved more than the +1s sent to them")
    if parked:
        problems.append(f"{len(parked)} changes still in the outbox, e.g. {parked[0]}")
    by_entry = {entry_id: item for item, entry_id in library.entries.items()}
    sends: dict[int, list[int]] = {}
    created = 0
    for operation, variables, _headers in list(fake.requests):
        if operation != "SaveMediaListEntry":
            continue
        if variables.get("id") not in by_entry:
            created += 1
            continue
        sends.setdefault(variables["id"], []).append(variables.get("progress"))
    repeated = {e: p for e, p in sends.items() if any(b <= a for a, b in pairwise(p))}
    if repeated:
        entry, values = next(iter(repeated.items()))
        problems.append(f"{len(repeated)} entries got a state twice (or out of order), e.g. "
                        f"entry {entry}: {values}")  # fmt: skip
    if created:
        problems.append(f"{created} saves created an entry instead of updating the existing one")
    behind = [item for item, entry in library.entries.items()
              if fake.entries[entry].progress != final[item]]  # fmt: skip
    if behind:
        item = behind[0]
        problems.append(f"{len(behind)} AniList entries differ from the library, e.g. item "
                        f"{item}: {fake.entries[library.entries[item]].progress} there, "
                        f"{final[item]} here")  # fmt: skip
    result["pushes"] = sum(len(values) for values in sends.values())
    result["acked_linked"] = sum(acked[item] for item in library.entries)
    return problems


# --- reporting --------------------------------------------------------------------------


def summarise(result: dict) -> dict[str, dict[str, float]]:
    """Per "phase:kind": count, requests per second, p50 and p99 (ms), errors."""
    spans = {name: end - start for name, start, end in result["phases"]}
    figures = {}
    for name, times in result["samples"].items():
        phase = name.split(":", 1)[0]
        figures[name] = {"n": len(times), "rps": len(times) / spans[phase],
                         "p50": percentile(times, 50), "p99": percentile(times, 99),
                         "errors": result["errors"].get(name, 0)}  # fmt: skip
    return figures


def report(setup: Setup, result: dict, load: tuple[float, float], drained: float) -> None:
    figures = summarise(result)
    bare, mixed_bare = figures["alone-bare:bare"], figures.get("mixed:bare")
    print(f"\n({setup.name}) {setup.title}; {USERS} simulated people, closed loop")
    print(f"    bare route alone: {bare['rps']:.0f} req/s, p50 {bare['p50']:.1f} ms, "
          f"p99 {bare['p99']:.1f} ms; machine load average {load[0]:.2f} before, "
          f"{load[1]:.2f} after")  # fmt: skip
    print(
        f"    {'kind':<10} {'alone: rps':>11} {'p50':>6} {'p99':>6} {'err':>4}   "
        f"{'mixed: n':>8} {'p50':>6} {'p99':>6} {'err':>4}   (ratios to bare)"
    )
    for kind in KINDS:
        alone, mix = figures.get(f"alone-{kind}:{kind}"), figures.get(f"mixed:{kind}")
        cells = [f"    {kind:<10}"]
        if alone:
            cells.append(f"{alone['rps'] / bare['rps']:>11.2f} {alone['p50'] / bare['p50']:>6.1f} "
                         f"{alone['p99'] / bare['p99']:>6.1f} {alone['errors']:>4}")  # fmt: skip
        if mix and mixed_bare:
            cells.append(f"  {mix['n']:>8} {mix['p50'] / mixed_bare['p50']:>6.1f} "
                         f"{mix['p99'] / mixed_bare['p99']:>6.1f} {mix['errors']:>4}")  # fmt: skip
        print(" ".join(cells))
    mixed_rps = sum(f["rps"] for name, f in figures.items() if name.startswith("mixed:"))
    print(
        f"    mixed: {mixed_rps / bare['rps']:.2f} x bare throughput "
        f"({mixed_rps:.0f} req/s); {result['acked_linked']} +1s on linked items went to "
        f"AniList as {result['pushes']} saves; outbox drained {drained:.1f} s after the load"
    )
    for name, example in result["examples"].items():
        print(f"    error {name}: {example}")


def _troubles_logged(workdir: Path) -> list[str]:
    """A traceback in the log of gunicorn or a worker (a failed round, a crashed worker)."""
    troubles = []
    for log in sorted(workdir.glob("*.log")):
        text = log.read_text(errors="replace") if log.name != "access.log" else ""
        if "Traceback" in text:
            last = text[text.rindex("Traceback") :].strip().splitlines()[-1]
            troubles.append(f"{log.name} has a traceback ending {last!r} (LOAD_KEEP=1 keeps it)")
    return troubles


def unavailable() -> str | None:
    """Why setup (b) cannot run here, or None."""
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        return f"PostgreSQL is not reachable at {PG_URL} ({type(error).__name__})"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        return f"Redis is not reachable at {REDIS_URL} ({error})"
    return None


def run_setup(setup: Setup) -> list[str]:
    """Run one setup in a directory of its own (kept with LOAD_KEEP=1); its problems."""
    workdir = Path(tempfile.mkdtemp(prefix=f"tracker-load-{setup.name}-"))
    fake = FakeAniList()
    anilist_url, stop_fake = serve(fake)
    try:
        problems = _measure(setup, workdir, fake, anilist_url)
    finally:
        stop_fake()
        if os.environ.get("LOAD_KEEP"):
            print(f"    kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for problem in problems:
        print(f"    FAILED: {problem}")
    if not problems:
        print("    checks: no errors, no lost increment, every change on AniList exactly once")
    return problems


def _measure(setup: Setup, workdir: Path, fake: FakeAniList, anilist_url: str) -> list[str]:
    if setup.postgres:
        _fresh_postgres(PG_URL)
        redis.Redis.from_url(REDIS_URL).flushdb()
        env = _config(PG_URL, REDIS_URL, anilist_url)
    else:
        env = _config(f"sqlite:///{workdir / 'load.db'}", None, anilist_url)
    began = time.monotonic()
    app = _app(env)
    library = prepare(app, fake)
    prepared = time.monotonic()
    before = os.getloadavg()[0]
    with processes(env, setup, workdir) as base:
        serving = time.monotonic()
        result = drive(base, library, workdir)
        drained = drain(app)
    problems = check(app, fake, library, result) + _troubles_logged(workdir)
    with app.app_context():
        db.engine.dispose()
    report(setup, result, (before, os.getloadavg()[0]), drained)
    print(
        f"    timings: database prepared in {prepared - began:.0f} s, gunicorn answering "
        f"{serving - prepared:.0f} s later, all done after {time.monotonic() - began:.0f} s"
    )
    errors = sum(result["errors"].values())
    return [f"{errors} requests failed"] * bool(errors) + problems


def main() -> int:
    print(
        f"make load: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
        f"timeline {WARMUP:.0f} s warm-up, {ALONE:.0f} s per kind alone, {MIXED:.0f} s mixed"
    )
    failed = False
    for setup in SETUPS:
        if setup.postgres and (reason := unavailable()):
            print(f"\n({setup.name}) skipped: {reason}")
            continue
        failed |= bool(run_setup(setup))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
