"""What the statistics page costs on a library of 5,000 titles, against the library page
of the same library in the same run (same server, same database, same session).

Both pages are asked in turn, ``REQUESTS`` times each after a warm-up; the figures are
the median server time of each (measured around the WSGI call), their ratio, and the
SQL statements each request runs (the stats are aggregated in the database: their count
does not grow with the library). ``BENCH_STATS_REQUESTS`` sets how many requests.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, select

from bench.bench_increment import Timed, _cpu, counting, logged_in, serving
from tracker import create_app
from tracker.extensions import db
from tracker.models import ItemEvent, LibraryItem, Media, utcnow
from tracker.services import accounts

ITEMS = 5_000
REQUESTS = int(os.environ.get("BENCH_STATS_REQUESTS", "20"))
WARMUP = 3
USERNAME, PASSWORD = "bench", "bench-password"
FORMATS = ("TV", "TV", "MOVIE", "OVA", "ONA", "TV_SHORT")
GENRES = ("Action", "Adventure", "Comedy", "Drama", "Fantasy", "Mystery", "Romance", "Sci-Fi")
STATUSES = ("completed", "current", "planning", "completed", "paused", "dropped", "repeating")


def _stats_app(database: Path) -> Flask:
    """The app on a fresh SQLite file: one user with ITEMS titles (anime and manga, with
    formats, genres, lengths, scores and dates) and a history row per title."""
    app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                      "SECRET_KEY": "bench-secret-key-long-enough-for-hs256-signing",
                      "DEMO_USER": False, "INPROCESS_WORKER": False,
                      "RATELIMIT_ENABLED": False})  # fmt: skip
    with app.app_context():
        upgrade()
        user = accounts.register(USERNAME, PASSWORD)
        now = utcnow()
        db.session.execute(insert(Media), [
            {"source": "anilist", "external_id": str(n), "anilist_id": n, "synonyms": [],
             "media_type": "anime" if n % 3 else "manga", "title_preferred": f"Title {n:05d}",
             "search_text": f"title {n:05d}", "episodes": 12 + n % 40, "chapters": 100,
             "duration": None if n % 7 == 0 else 24, "format": FORMATS[n % len(FORMATS)],
             "genres": [GENRES[n % 8], GENRES[(n * 3) % 8]]} for n in range(ITEMS)])  # fmt: skip
        media = db.session.execute(select(Media.id, Media.media_type, Media.anilist_id)).all()
        db.session.execute(insert(LibraryItem), [
            {"user_id": user.id, "media_id": media_id, "media_type": kind,
             "title": f"Title {n:05d}", "status": STATUSES[n % len(STATUSES)],
             "progress": n % 12, "repeat": n % 3 == 0, "score": (n * 7) % 101 or None,
             "completed_on": f"{now.year - n % 2}-{n % 12 + 1:02d}-15", "private": False,
             "created_at": now, "updated_at": now, "custom_lists": []}
            for media_id, kind, n in media])  # fmt: skip
        ids = db.session.scalars(select(LibraryItem.id)).all()
        db.session.execute(insert(ItemEvent), [
            {"item_id": item_id, "user_id": user.id, "at": now - timedelta(days=n % 400),
             "origin": "web", "kind": "updated", "changes": {"progress": [0, 1]}}
            for n, item_id in enumerate(ids)])  # fmt: skip
        db.session.commit()
        db.session.remove()
    return app


def _page(app: Flask, timed: Timed, session: Any, url: str) -> dict[str, float]:
    for _ in range(WARMUP):
        assert session.get(url).status_code == 200
    with counting(app) as statements:
        for _ in range(REQUESTS):
            response = session.get(url)
            assert response.status_code == 200, (response.status_code, response.text[:200])
    return {
        "server_median_ms": statistics.median(s * 1000 for s in timed.seconds[-REQUESTS:]),
        "statements_per_request": statements[0] / REQUESTS,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tracker-bench-stats-") as tmp:
        app = _stats_app(Path(tmp) / "bench.db")
        timed = Timed(app.wsgi_app)
        app.wsgi_app = timed
        with serving(app) as base:
            session, _token = logged_in(base)
            library = _page(app, timed, session, f"{base}/")
            stats = _page(app, timed, session, f"{base}/stats")
        with app.app_context():
            db.engine.dispose()
    return {
        "items_in_library": ITEMS,
        "requests_each": REQUESTS,
        "server": "werkzeug make_server, threaded, 127.0.0.1; SQLite in a temp file (WAL)",
        "cpus": os.cpu_count(),
        "cpu": _cpu(),
        "load_average_1m": os.getloadavg()[0],
        **{f"library_page_{key}": value for key, value in library.items()},
        **{f"stats_page_{key}": value for key, value in stats.items()},
        "stats_vs_library_page": stats["server_median_ms"] / library["server_median_ms"],
    }
