"""Ten minutes of AniList being down: how many rows the ``jobs`` table grows by.

Two Tracker users have AniList accounts; AniList is a URL where nothing listens.
The worker is driven with a simulated clock: ``sync.work_once(now=…)`` once per
``WORKER_POLL_SECONDS`` (1 s) over ten simulated minutes, so the measure takes a
few seconds of real time. The clients' retry sleeps are not waited either.

Reported: the rows in ``jobs`` at the end (queued, running and finished alike),
how many of them failed, and the AniList requests attempted (connections refused,
retries included), which is what an outage costs the shared budget.

Measured on this branch (SQLite): before the per-account backoff 601 rows (599
failed pulls, one queued per account per round) and 1,198 retry sleeps; after it
10 rows (about 5 failed pulls per account: 30 s doubling, jittered) and 20.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.bench_catalog import _app_on
from tests.fakes import closed_url
from tracker.extensions import db
from tracker.models import AniListAccount, Job, utcnow
from tracker.services import accounts, crypto, sync

MINUTES = 10
ACCOUNTS = 2


def run() -> dict[str, Any]:
    attempts = Counter()

    def no_sleep(seconds: float) -> None:
        attempts["retries"] += 1

    config = {
        "ANILIST_GRAPHQL_URL": closed_url(),
        "ANILIST_PULL_INTERVAL": 900,
        "REMOTE_OPTIONS": {"timeout": (0.5, 0.5), "interactive_timeout": (0.5, 0.5),
                           "sleep": no_sleep},
    }  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp,
        _app_on(Path(tmp) / "outage.db", **config) as app,
        app.app_context(),
    ):
        for n in range(ACCOUNTS):
            user = accounts.register(f"viewer{n}", "password123")
            db.session.add(
                AniListAccount(
                    user_id=user.id,
                    anilist_user_id=7000 + n,
                    name=f"v{n}",
                    access_token_encrypted=crypto.encrypt("dead-token"),
                    state="ok",
                )
            )
        db.session.commit()
        rounds = simulate_outage(app, minutes=MINUTES)
        states = Counter(db.session.scalars(select(Job.state)).all())
    return {
        "accounts": ACCOUNTS,
        "simulated_minutes": MINUTES,
        "worker_rounds": rounds,
        "jobs_rows": sum(states.values()),
        "jobs_failed": states["failed"],
        "jobs_queued_or_running": states["queued"] + states["running"],
        "anilist_retries_slept": attempts["retries"],
    }


def simulate_outage(app, *, minutes: float) -> int:
    """Run the worker at its poll rate over ``minutes`` of simulated time."""
    poll = float(app.config["WORKER_POLL_SECONDS"])
    start, rounds = utcnow(), int(minutes * 60 / poll)
    for k in range(rounds):
        sync.work_once(now=start + timedelta(seconds=k * poll))
        db.session.remove()
    return rounds
