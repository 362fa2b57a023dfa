"""Importing a 10,000-entry MyAnimeList export: read, preview (matching), apply, again.

Everything runs on loopback against a temporary SQLite database migrated with Alembic,
with AniList played by ``tests.fakes.anilist.FakeAniList`` served over real HTTP in
this process (its CPU time is in the wall time: they share the GIL).

1. A MAL anime export of 10,000 entries is generated (statuses, progress, scores,
   repeats, comments and partial dates varied); 9,900 of its MAL ids are titles the
   fake knows, 100 are not (they become title-only items, listed as unmatched).
2. ``read``: the file parsed with defusedxml into rows.
3. ``preview``: ``imports.plan_import`` on an empty catalogue (every MAL id asked of
   AniList, 50 a request) and its result; the library is not written.
4. ``apply``: ``imports.apply`` of that plan (one transaction: 10,000 items and their
   history).
5. ``again``: the same file previewed and applied once more (the catalogue knows every
   id AniList knows; the 100 unknown ones are asked again; all 10,000 unchanged).

For each phase: wall seconds (for a preview, ``fetch_s`` of them waiting for AniList's
answers: HTTP and the fake's own work), SQL statements sent (one per cursor call: an
``executemany`` counts once) and per entry, and the GraphQL requests the fake got.
The peak of Python memory (``tracemalloc``) of read + preview + apply is measured in a
second, untimed run on a database of its own (tracing slows this code several times);
the fake's allocations are in it too.
"""

from __future__ import annotations

import random
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import event

from bench.bench_catalog import _app_on, _graphql_requests
from tests.fakes import serve as serve_fake
from tests.fakes.anilist import FakeAniList
from tracker.clients import AniListClient
from tracker.extensions import db
from tracker.portability import mal
from tracker.services import accounts, imports

ENTRIES = 10_000
UNKNOWN = 100  # MAL ids the fake AniList does not know
FIRST_UNKNOWN = 1_000_001
STATUSES = (("Completed", 45), ("Plan to Watch", 25), ("Watching", 12), ("Dropped", 8),
            ("On-Hold", 10))  # fmt: skip
COMMENTS = ("Rewatch with subtitles.", "最高！ Episode 7 is the best.",
            "Stopped at the filler arc & the <recap>.")  # fmt: skip


def run() -> dict[str, Any]:
    fake = FakeAniList()
    known = fake.add_media(ENTRIES - UNKNOWN, "anime")
    unknown = range(FIRST_UNKNOWN, FIRST_UNKNOWN + UNKNOWN)  # clear of every id the fake has
    data = generate_export([m["idMal"] for m in known] + list(unknown))
    fake_url, stop = serve_fake(fake)
    results: dict[str, Any] = {"entries": ENTRIES, "file_mib": round(len(data) / 2**20, 2)}
    try:
        with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
            results.update(_timed(Path(tmp) / "timed.db", fake, fake_url, data))
            results["tracemalloc_peak_mib"] = _traced(Path(tmp) / "traced.db", fake_url, data)
    finally:
        stop()
    return results


def generate_export(mal_ids: list[int]) -> bytes:
    rng = random.Random(ENTRIES)
    names, weights = zip(*STATUSES, strict=True)
    parts = ['<?xml version="1.0" encoding="UTF-8" ?>\n<myanimelist>\n<myinfo>'
             "<user_export_type>1</user_export_type></myinfo>\n"]  # fmt: skip
    for k, mal_id in enumerate(mal_ids):
        status = rng.choices(names, weights)[0]
        watched = (
            12 if status == "Completed" else 0 if status == "Plan to Watch" else rng.randint(0, 11)
        )
        year = rng.randint(2000, 2024)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        start = rng.choice(["0000-00-00", f"{year}-00-00", f"{year}-{month:02d}-00",
                            f"{year}-{month:02d}-{day:02d}"])  # fmt: skip
        comment = rng.choice(COMMENTS) if rng.random() < 0.15 else ""
        parts.append(
            f"<anime><series_animedb_id>{mal_id}</series_animedb_id>"
            f"<series_title><![CDATA[Generated Anime {k + 1}]]></series_title>"
            "<series_type>TV</series_type><series_episodes>12</series_episodes>"
            f"<my_watched_episodes>{watched}</my_watched_episodes>"
            f"<my_start_date>{start}</my_start_date><my_finish_date>0000-00-00</my_finish_date>"
            f"<my_score>{rng.choice([0, 0, 5, 6, 7, 8, 9, 10])}</my_score>"
            f"<my_status>{status}</my_status>"
            f"<my_comments><![CDATA[{escape(comment)}]]></my_comments>"
            f"<my_times_watched>{1 if rng.random() < 0.05 else 0}</my_times_watched>"
            f"<my_rewatching>{1 if status == 'Watching' and rng.random() < 0.1 else 0}"
            "</my_rewatching></anime>\n"
        )
    parts.append("</myanimelist>\n")
    return "".join(parts).encode("utf-8")


@contextmanager
def _counted() -> Iterator[dict[str, float]]:
    """Wall seconds, SQL statements, and the seconds spent waiting for AniList's answers
    (``fetch_s``: HTTP and the fake's own work, which shares this process's CPU)."""
    figures = {"statements": 0, "seconds": 0.0, "fetch_s": 0.0}
    real = AniListClient.media_by_mal_ids

    def count(*_args: Any) -> None:
        figures["statements"] += 1

    def fetch(client: AniListClient, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return real(client, *args, **kwargs)
        finally:
            figures["fetch_s"] += time.perf_counter() - started

    event.listen(db.engine, "before_cursor_execute", count)
    AniListClient.media_by_mal_ids = fetch  # type: ignore[method-assign]
    started = time.perf_counter()
    try:
        yield figures
    finally:
        figures["seconds"] = time.perf_counter() - started
        AniListClient.media_by_mal_ids = real  # type: ignore[method-assign]
        event.remove(db.engine, "before_cursor_execute", count)


def _timed(path: Path, fake: FakeAniList, url: str, data: bytes) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with _app_on(path, ANILIST_GRAPHQL_URL=url) as app, app.app_context():
        user_id = accounts.register("bench", "password123").id
        started = time.perf_counter()
        parsed = mal.read(data)
        results["read_s"] = time.perf_counter() - started
        for phase in ("first", "again"):
            asked = _graphql_requests(fake)
            with _counted() as preview:
                plan = imports.plan_import(user_id, parsed, mode="overwrite")
                summary = plan.result(dry_run=True)
            requests = _graphql_requests(fake) - asked
            with _counted() as applied:
                outcome = imports.apply(plan)
            results.update({
                f"{phase}_preview_s": preview["seconds"],
                f"{phase}_preview_fetch_s": preview["fetch_s"],
                f"{phase}_preview_sql": preview["statements"],
                f"{phase}_preview_sql_per_entry": preview["statements"] / ENTRIES,
                f"{phase}_preview_anilist_requests": requests,
                f"{phase}_apply_s": applied["seconds"],
                f"{phase}_apply_sql": applied["statements"],
                f"{phase}_apply_sql_per_entry": applied["statements"] / ENTRIES,
                f"{phase}_added": outcome["added"],
                f"{phase}_unchanged": outcome["unchanged"],
                f"{phase}_unmatched": len(summary["unmatched"]),
            })  # fmt: skip
    return results


def _traced(path: Path, url: str, data: bytes) -> float:
    with _app_on(path, ANILIST_GRAPHQL_URL=url) as app, app.app_context():
        user_id = accounts.register("bench", "password123").id
        tracemalloc.start()
        try:
            imports.apply(imports.plan_import(user_id, mal.read(data), mode="overwrite"))
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return round(peak / 2**20, 1)
