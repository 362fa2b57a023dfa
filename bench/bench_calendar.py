"""The airing calendar on a library of 5,000 AniList titles: ``/calendar`` (the week),
``/calendar?view=month`` and the private ``.ics`` feed, each as a ratio to the library
page (``/``) asked the same way in the same run, with the SQL statements each costs.

One title in fifty is airing: each has a weekly episode for the next 13 weeks and the
last one (``airing_episodes``), so the week shows about 100 episodes, the month about
400 and the feed (a week back, 90 days ahead) about 1,400. Everything runs on
loopback against a temporary SQLite database migrated with Alembic; requests are asked
one after another, interleaved page by page, so load on the machine falls on all alike.

    python -m bench calendar              # short run (a few seconds)
    BENCH_CALENDAR_ROUNDS=50 python -m bench calendar
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, select

from bench.bench_catalog import CONFIG
from bench.bench_increment import logged_in
from bench.serve import percentile, serve, statements_counted
from tracker import create_app
from tracker.extensions import db
from tracker.models import AiringEpisode, LibraryItem, Media, utcnow
from tracker.services import accounts, calendar

ITEMS = 5_000
AIRING_EVERY = 50  # one title in fifty is airing (100 titles: a busy season and more)
WEEKS = 13
ROUNDS = int(os.environ.get("BENCH_CALENDAR_ROUNDS", "8"))
WARMUP = 2
USERNAME, PASSWORD = "bench", "bench-password"


def _app(database: Path) -> tuple[Flask, str]:
    """The app with the library filled; the feed's path."""
    app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        upgrade()
        user = accounts.register(USERNAME, PASSWORD)
        now = utcnow()
        db.session.execute(
            insert(Media),
            [{"source": "anilist", "external_id": str(n), "anilist_id": n, "synonyms": [],
              "media_type": "anime", "title_preferred": f"Title {n:05d}",
              "search_text": f"title {n:05d}", "episodes": 24, "duration": 24}
             for n in range(ITEMS)],
        )  # fmt: skip
        media = db.session.execute(select(Media.id, Media.anilist_id)).all()
        db.session.execute(
            insert(LibraryItem),
            [{"user_id": user.id, "media_id": media_id, "media_type": "anime",
              "title": f"Title {n:05d}", "status": "current", "progress": n % 12,
              "repeat": 0, "private": False, "created_at": now, "updated_at": now,
              "custom_lists": []} for media_id, n in media],
        )  # fmt: skip
        db.session.execute(
            insert(AiringEpisode),
            [{"media_id": media_id, "episode": week + 2,
              "airing_at": now + timedelta(days=7 * week, hours=n % 168)}
             for media_id, n in media if n % AIRING_EVERY == 0
             for week in range(-1, WEEKS)],
        )  # fmt: skip
        secret = calendar.new_feed_secret(user.id)
        db.session.remove()
    return app, f"/calendar/{secret}.ics"


def _measure(app: Flask, base: str, pages: dict[str, str]) -> dict[str, Any]:
    session, _token = logged_in(base)
    feed = requests.Session()  # a calendar app: no cookie
    times: dict[str, list[float]] = {name: [] for name in pages}
    statements: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for round_number in range(WARMUP + ROUNDS):
        for name, path in pages.items():  # interleaved: load falls on every page alike
            asker = feed if name == "feed" else session
            with statements_counted(app) as count:
                started = time.perf_counter()
                answer = asker.get(f"{base}{path}")
                elapsed = time.perf_counter() - started
            assert answer.status_code == 200, (name, answer.status_code)
            if round_number >= WARMUP:
                times[name].append(elapsed * 1000)
            statements[name], sizes[name] = count[0], len(answer.content)
    results: dict[str, Any] = {}
    library = statistics.median(times["library"])
    for name, samples in times.items():
        median = statistics.median(samples)
        results[f"{name}_median_ms"] = median
        results[f"{name}_p95_ms"] = percentile(samples, 95)
        results[f"{name}_statements"] = statements[name]
        results[f"{name}_kb"] = sizes[name] / 1024
        if name != "library":
            results[f"{name}_vs_library"] = median / library
    return results


def _episodes(feed_text: str) -> int:
    return feed_text.count("BEGIN:VEVENT")


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tracker-bench-calendar-") as tmp:
        app, feed_path = _app(Path(tmp) / "bench.db")
        pages = {"library": "/", "week": "/calendar", "month": "/calendar?view=month",
                 "feed": feed_path}  # fmt: skip
        base, stop = serve(app)
        try:
            events = _episodes(requests.get(f"{base}{feed_path}").text)
            results = _measure(app, base, pages)
        finally:
            stop()
            with app.app_context():
                db.engine.dispose()
    return {
        "items_in_library": ITEMS,
        "airing_titles": ITEMS // AIRING_EVERY,
        "feed_events": events,
        "rounds": ROUNDS,
        "load_average_1m": os.getloadavg()[0],
        "server": "werkzeug make_server, threaded, 127.0.0.1; SQLite in a temp file (WAL)",
        **results,
    }
