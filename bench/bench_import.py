"""AniList import of a 10,000-entry list: ``sync.pull`` timed and counted.

Everything runs on loopback against a temporary SQLite database migrated with
Alembic, with AniList played by ``tests.fakes.anilist.FakeAniList`` served over
real HTTP in this process:

1. The fake holds one AniList user with 7,000 anime and 3,000 manga entries
   (varied statuses, progress, volumes, scores, rewatches, notes, dates, private
   entries, a custom list and some entries hidden from the status lists).
2. A Tracker user gets that AniList account by storing the ``AniListAccount`` row
   directly (the fake's token, encrypted as ``finish_connect`` stores it). The
   OAuth flow itself is covered by ``tests/test_anilist_sync.py`` and not timed.
3. ``sync.pull(user, origin=IMPORT)`` is run twice: the first import (10,000
   added) and a second one with nothing changed on AniList (10,000 unchanged).

For each pull: wall and CPU seconds (CPU of the whole process, the fake's thread
included), the part of the wall time spent in ``AniListClient.media_list_collection``
(``fetch_s``: HTTP, the fake's own work, parsing), the SQL statements sent (a
``before_cursor_execute`` listener: one per cursor call, so an ``executemany``
counts once), the GraphQL requests the fake received, the result counts, and how
far the resident set grew above where it stood before the pull (``rss_growth_mib``,
from the kernel's high-water mark, reset first; it costs nothing to measure).

The peak of Python memory under ``tracemalloc`` is measured only when
``BENCH_IMPORT_TRACEMALLOC=1``: tracing slows this allocation-heavy code about four
times, so both pulls are then run again on a database of their own, untimed. The
fake runs in this process: its CPU time is in the wall time (they share the GIL)
and its allocations are in the memory figures.
"""

from __future__ import annotations

import os
import random
import re
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from bench.bench_catalog import _app_on, _graphql_requests
from tests.fakes import serve as serve_fake
from tests.fakes.anilist import FakeAniList
from tracker.clients import AniListClient
from tracker.extensions import db
from tracker.models import AniListAccount, ItemEvent, LibraryItem, Origin, SyncOutbox
from tracker.services import accounts, crypto, sync

ANIME = 7_000
MANGA = 3_000
ENTRIES = ANIME + MANGA
CUSTOM_LIST = "Favourites"

# AniList statuses with their share of a list, per media type.
STATUS_WEIGHTS = {
    "ANIME": {"COMPLETED": 45, "PLANNING": 25, "CURRENT": 10, "DROPPED": 8, "PAUSED": 7,
              "REPEATING": 5},
    "MANGA": {"PLANNING": 35, "CURRENT": 25, "COMPLETED": 20, "PAUSED": 10, "DROPPED": 8,
              "REPEATING": 2},
}  # fmt: skip
NOTES = (
    "Rewatch with subtitles.",
    "Recommended by a friend; the second half drags.",
    "最高！ Episode 7 is the best.",
    "Stopped at the filler arc.\nPick up again after the movie.",
    "Art ★★★★★, story ★★★",
)


def run() -> dict[str, Any]:
    fake = FakeAniList()
    viewer = fake.add_user("bench", score_format="POINT_100")
    _fill_list(fake, viewer.id)
    fake_url, stop_fake = serve_fake(fake)
    results: dict[str, Any] = {"entries": len(fake.entries_of(viewer.id))}
    try:
        with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
            results.update(_timed_imports(Path(tmp) / "timed.db", fake, fake_url, viewer.id))
            if os.environ.get("BENCH_IMPORT_TRACEMALLOC") == "1":
                results.update(_traced_imports(Path(tmp) / "traced.db", fake, fake_url, viewer.id))
    finally:
        stop_fake()
    return results


def _timed_imports(path: Path, fake: FakeAniList, url: str, viewer_id: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with _app_on(path, ANILIST_GRAPHQL_URL=url) as app, app.app_context():
        user_id = _connect(fake, viewer_id)
        for phase in ("first", "second"):
            figures = _timed_pull(fake, user_id)
            results.update({f"{phase}_{key}": value for key, value in figures.items()})
        results.update(_stored(user_id))
    return results


def _traced_imports(path: Path, fake: FakeAniList, url: str, viewer_id: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with _app_on(path, ANILIST_GRAPHQL_URL=url) as app, app.app_context():
        user_id = _connect(fake, viewer_id)
        for phase in ("first", "second"):
            results[f"{phase}_tracemalloc_peak_mib"] = _traced_pull(user_id)
    return results


# --- setup --------------------------------------------------------------------------


def _fill_list(fake: FakeAniList, user_id: int) -> None:
    rng = random.Random(ENTRIES)
    for media in fake.add_media(ANIME, "anime") + fake.add_media(MANGA, "manga"):
        fake.add_entry(user_id, media["id"], **_entry_values(rng, media))


def _entry_values(rng: random.Random, media: dict[str, Any]) -> dict[str, Any]:
    kind = media["type"]
    weights = STATUS_WEIGHTS[kind]
    status = rng.choices(list(weights), list(weights.values()))[0]
    total = media["episodes"] if kind == "ANIME" else media["chapters"]
    values: dict[str, Any] = {"status": status}
    if status == "COMPLETED":
        values["progress"] = total
    elif status != "PLANNING":
        values["progress"] = rng.randint(0, total - 1)
    if kind == "MANGA" and status != "PLANNING":
        volumes = media["volumes"] or 1
        values["progress_volumes"] = volumes if status == "COMPLETED" else rng.randint(0, volumes)
    if status != "PLANNING" and rng.random() < 0.8:
        values["score"] = rng.randrange(10, 101, 5)  # 0-100, as the fake keeps it
    if status == "REPEATING" or (status == "COMPLETED" and rng.random() < 0.05):
        values["repeat"] = rng.randint(1, 3)
    if rng.random() < 0.15:
        values["notes"] = rng.choice(NOTES)
    if rng.random() < 0.03:
        values["private"] = True
    if status != "PLANNING":
        values["started_at"] = _fuzzy_date(rng, 2005, 2020)
    if status == "COMPLETED":
        values["completed_at"] = _fuzzy_date(rng, 2021, 2025)
    if rng.random() < 0.05:
        values["custom_lists"] = {CUSTOM_LIST}  # listed twice: status list and custom list
        values["hidden_from_status_lists"] = rng.random() < 0.2  # then in the custom one only
    return values


def _fuzzy_date(rng: random.Random, first: int, last: int) -> dict[str, int | None]:
    """A whole date mostly; sometimes only the year and month, or the year, or nothing."""
    shape = rng.random()
    if shape < 0.05:
        return {"year": None, "month": None, "day": None}
    year, month, day = rng.randint(first, last), rng.randint(1, 12), rng.randint(1, 28)
    if shape < 0.10:
        return {"year": year, "month": None, "day": None}
    if shape < 0.20:
        return {"year": year, "month": month, "day": None}
    return {"year": year, "month": month, "day": day}


def _connect(fake: FakeAniList, anilist_user_id: int) -> int:
    """A Tracker user holding the AniList account, stored as ``finish_connect`` stores it."""
    user = accounts.register("importer", "password123")
    db.session.add(
        AniListAccount(
            user_id=user.id,
            anilist_user_id=anilist_user_id,
            name=fake.users[anilist_user_id].name,
            score_format="POINT_100",
            access_token_encrypted=crypto.encrypt(fake.issue_token(anilist_user_id)),
            state="ok",
        )
    )
    db.session.commit()
    return user.id


# --- measuring ----------------------------------------------------------------------


def _pull(user_id: int) -> sync.PullResult:
    return sync.pull(user_id, origin=Origin.IMPORT)


def _timed_pull(fake: FakeAniList, user_id: int) -> dict[str, Any]:
    db.session.expunge_all()  # nothing cached from the setup or an earlier pull
    requests_before = _graphql_requests(fake)
    rss_before = _reset_rss_peak()
    with _statements() as statements, _fetch_clock() as fetch:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = _pull(user_id)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    rss_peak = _status_bytes("VmHWM")
    db.session.expunge_all()
    total = sum(statements.values())
    return {
        "s": round(seconds, 2),
        "cpu_s": round(cpu, 2),
        "fetch_s": round(fetch[0], 2),
        "entries_per_s": round(ENTRIES / seconds),
        "sql_statements": total,
        "sql_per_entry": round(total / ENTRIES, 2),
        "sql_by_kind": " ".join(f"{kind}={n}" for kind, n in statements.most_common()),
        "graphql_requests": _graphql_requests(fake) - requests_before,
        "added": result.added,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "conflicts": result.conflicts,
        "unmatched": len(result.unmatched),
        "rss_growth_mib": (
            round((rss_peak - rss_before) / 2**20, 1)
            if rss_before is not None and rss_peak is not None
            else "n/a"
        ),
    }


def _traced_pull(user_id: int) -> float:
    db.session.expunge_all()
    tracemalloc.start()
    try:
        _pull(user_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    db.session.expunge_all()
    return round(peak / 2**20, 1)


@contextmanager
def _statements() -> Iterator[Counter[str]]:
    """SQL statements sent to the database meanwhile, by first keyword."""
    counts: Counter[str] = Counter()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counts[statement.lstrip().split(None, 1)[0].upper()] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@contextmanager
def _fetch_clock() -> Iterator[list[float]]:
    """Seconds spent reading list chunks from AniList meanwhile (a one-item list)."""
    original: Callable[..., Any] = AniListClient.media_list_collection
    spent = [0.0]

    def timed_fetch(self: AniListClient, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    AniListClient.media_list_collection = timed_fetch  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        AniListClient.media_list_collection = original  # type: ignore[method-assign]


def _reset_rss_peak() -> int | None:
    """Reset the kernel's high-water mark of the resident set (Linux); the resident
    set now, in bytes. None where that cannot be done."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_bytes("VmRSS")


def _status_bytes(name: str) -> int | None:
    """A size from /proc/self/status (VmRSS, VmHWM) in bytes; None if unknown."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(rf"^{name}:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else None


def _stored(user_id: int) -> dict[str, Any]:
    def count(statement: Any) -> int:
        return db.session.scalar(statement) or 0

    return {
        "library_items": count(
            select(func.count(LibraryItem.id)).where(LibraryItem.user_id == user_id)
        ),
        "item_events": count(select(func.count(ItemEvent.id)).where(ItemEvent.user_id == user_id)),
        "outbox_rows": count(select(func.count(SyncOutbox.id))),  # 0: an import pushes nothing
    }
