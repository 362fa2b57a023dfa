"""What up next costs the server for a library of 5,000 in-progress titles, as a ratio
to the library page (its first page, the default 50 rows) in the same run, with the
statements each answer runs.

A fifth of the titles are airing anime with a schedule (``airing_episodes``), the rest
finished anime and manga with totals, so every availability rule is exercised. The
server is werkzeug (threaded, 127.0.0.1) on SQLite in a temporary file; each page is
asked ``REQUESTS`` times after ``WARMUP`` (``BENCH_NEXT_REQUESTS`` sets more), the
server time measured around the WSGI call.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, select

from bench.bench_increment import Timed, logged_in, serving
from bench.serve import percentile, statements_counted
from tracker import create_app
from tracker.extensions import db
from tracker.models import AiringEpisode, LibraryItem, Media, utcnow
from tracker.services import accounts

ITEMS = 5_000
AIRING_SHARE = 5  # every fifth title airs
REQUESTS = int(os.environ.get("BENCH_NEXT_REQUESTS", "15"))
WARMUP = 3
USERNAME, PASSWORD = "bench", "bench-password"
PAGES = {"library": "/library", "next": "/next", "next_api": "/api/library/next"}


def _app(database: Path) -> Flask:
    app = create_app({
        "ENV": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "SECRET_KEY": "bench-secret-key-long-enough-for-hs256-signing", "DEMO_USER": False,
        "INPROCESS_WORKER": False, "RATELIMIT_ENABLED": False,
    })  # fmt: skip
    now = utcnow()
    with app.app_context():
        upgrade()
        user = accounts.register(USERNAME, PASSWORD)
        db.session.execute(
            insert(Media),
            [{"source": "anilist", "external_id": str(n), "anilist_id": n, "synonyms": [],
              "media_type": "manga" if n % 3 == 0 else "anime",
              "status": "releasing" if n % AIRING_SHARE == 0 else "finished",
              "title_preferred": f"Title {n:05d}", "search_text": f"title {n:05d}",
              "episodes": 24, "chapters": 200, "airing_refreshed_at": now}
             for n in range(ITEMS)],
        )  # fmt: skip
        media = db.session.execute(select(Media.id, Media.media_type, Media.anilist_id)).all()
        db.session.execute(
            insert(AiringEpisode),
            [{"media_id": media_id, "episode": episode,
              "airing_at": now + timedelta(days=7 * (episode - 6), hours=n % 48)}
             for media_id, media_type, n in media
             if n % AIRING_SHARE == 0 and media_type == "anime" for episode in range(1, 13)],
        )  # fmt: skip
        db.session.execute(
            insert(LibraryItem),
            [{"user_id": user.id, "media_id": media_id, "media_type": media_type,
              "title": f"Title {n:05d}", "status": "current", "progress": n % 20, "repeat": 0,
              "private": False, "created_at": now, "updated_at": now - timedelta(minutes=n),
              "custom_lists": []}
             for media_id, media_type, n in media],
        )  # fmt: skip
        db.session.commit()
        db.session.remove()
    return app


def _measure(app: Flask, timed: Timed, session: requests.Session, url: str) -> dict[str, float]:
    for _ in range(WARMUP):
        assert session.get(url).status_code == 200
    timed.clear()
    with statements_counted(app) as statements:
        for _ in range(REQUESTS):
            response = session.get(url)
            assert response.status_code == 200, response.text[:200]
    milliseconds = [s * 1000 for s in timed.seconds]
    return {
        "server_median_ms": statistics.median(milliseconds),
        "server_p95_ms": percentile(milliseconds, 95),
        "statements_per_request": statements[0] / REQUESTS,
        "kilobytes": len(response.content) / 1024,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tracker-bench-next-") as tmp:
        app = _app(Path(tmp) / "bench.db")
        timed = Timed(app.wsgi_app)
        app.wsgi_app = timed
        with serving(app) as base:
            session, _token = logged_in(base)
            opened = session.get(base + "/").text
            assert "Up next" in opened, "/ did not open on up next"
            figures = {name: _measure(app, timed, session, base + path)
                       for name, path in PAGES.items()}  # fmt: skip
        with app.app_context():
            db.engine.dispose()
    library = figures["library"]["server_median_ms"]
    return {
        "items_in_library": ITEMS,
        "requests_each": REQUESTS,
        "load_1min": os.getloadavg()[0],
        **{
            f"{name}_{key}": value
            for name, measured in figures.items()
            for key, value in measured.items()
        },
        "next_vs_library": figures["next"]["server_median_ms"] / library,
        "next_api_vs_library": figures["next_api"]["server_median_ms"] / library,
    }
