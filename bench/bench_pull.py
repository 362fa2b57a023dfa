"""Periodic pull of a 10,000-entry AniList list with 5 remote changes.

The fake AniList (``tests.fakes.anilist``, served over real HTTP in this process)
holds the 10,000-entry list of ``bench_import``, its entries last changed over the
past three years. A Tracker user on a temporary SQLite database (migrated by Alembic)
gets that account and a first, full pull (untimed). Then 5 entries change on AniList
and the pulls are timed, in this order, with the figures of each:

- ``floor``: one GraphQL round trip to the fake (``Viewer``, the median of
  FLOOR_RUNS): the least any pull can cost;
- ``incremental``: the periodic pull (``sync.pull``), which reads only what changed;
- ``full``: the same pull told to read the whole list (``full=True``): what every
  periodic pull cost before, with nothing left to change.

Targets (issue 10): the periodic pull makes at most 2 GraphQL requests and takes at
most 0.5 s; ``incremental_vs_floor`` and ``full_vs_incremental`` are ratios taken in
this same run (the machine is shared and noisy).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_catalog import _app_on, _graphql_requests
from bench.bench_import import _connect, _fill_list, _statements
from tests.fakes import serve as serve_fake
from tests.fakes.anilist import FakeAniList
from tracker.extensions import db
from tracker.models import Origin
from tracker.services import anilist, sync

CHANGES = 5
FLOOR_RUNS = 5
THREE_YEARS = 3 * 365 * 24 * 3600


def run() -> dict[str, Any]:
    fake = FakeAniList()
    viewer = fake.add_user("bench", score_format="POINT_100")
    _fill_list(fake, viewer.id)
    rng = random.Random(CHANGES)
    now = int(time.time())
    for entry in fake.entries_of(viewer.id):
        entry.updated_at = now - rng.randint(3600, THREE_YEARS)
    fake_url, stop_fake = serve_fake(fake)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp,
            _app_on(Path(tmp) / "pull.db", ANILIST_GRAPHQL_URL=fake_url) as app,
            app.app_context(),
        ):
            user_id = _connect(fake, viewer.id)
            sync.pull(user_id, origin=Origin.ANILIST)  # the first pull reads it all
            for entry in rng.sample(fake.entries_of(viewer.id), CHANGES):
                entry.progress, entry.updated_at = entry.progress + 1, int(time.time())
            results: dict[str, Any] = {"entries": len(fake.entries_of(viewer.id))}
            results["floor_s"] = _floor(user_id)
            results.update(_timed(fake, user_id, "incremental", full=False))
            results.update(_timed(fake, user_id, "full", full=True))
    finally:
        stop_fake()
    results["incremental_vs_floor"] = round(results["incremental_s"] / results["floor_s"], 1)
    results["full_vs_incremental"] = round(results["full_s"] / results["incremental_s"], 1)
    return results


def _floor(user_id: int) -> float:
    client = anilist.client_for(anilist.account_for(user_id))
    seconds = []
    for _ in range(FLOOR_RUNS):
        started = time.perf_counter()
        client.viewer()
        seconds.append(time.perf_counter() - started)
    return round(statistics.median(seconds), 4)


def _timed(fake: FakeAniList, user_id: int, name: str, *, full: bool) -> dict[str, Any]:
    db.session.expunge_all()  # nothing cached from the setup or an earlier pull
    requests_before = _graphql_requests(fake)
    with _statements() as statements:
        started = time.perf_counter()
        result = sync.pull(user_id, origin=Origin.ANILIST, full=full)
        seconds = time.perf_counter() - started
    return {
        f"{name}_s": round(seconds, 3),
        f"{name}_graphql_requests": _graphql_requests(fake) - requests_before,
        f"{name}_sql_statements": sum(statements.values()),
        f"{name}_updated": result.updated,
        f"{name}_unchanged": result.unchanged,
    }
