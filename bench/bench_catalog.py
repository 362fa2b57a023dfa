"""The local catalogue under load: autocomplete over 20,000 and 200,000 titles, backfill of 2,000.

Everything runs on loopback against a temporary SQLite database migrated with
Alembic, with AniList played by ``tests.fakes.anilist.FakeAniList``:

1. ``GET /api/sources/autocomplete`` served by the real app (werkzeug, threaded)
   for queries the catalogue answers on its own through its title index, timed
   request by request next to a bare Flask "ok" endpoint served the same way and
   a route of the app that lets the same bearer JWT in and answers ``{}`` (what
   any API request costs in this stack: ``signed_in_noop_*``), all interleaved,
   over each catalogue size (keys prefixed ``20k_``, ``200k_``);
   then, on the smaller one, one query the catalogue misses, asked repeatedly
   (one upstream request, cached).
   The app's own time and CPU per request are taken inside the server too (``server_*``).
   Werkzeug's server closes every connection, so each request of either kind
   pays for a new TCP connection and thread: the baseline includes that cost.
2. ``backfill.run()`` for one library of 2,000 AniList stubs: wall time and the
   GraphQL requests it took (50 ids each).
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, insert, select

from bench.bench_increment import Timed
from bench.serve import percentile, serve, timed
from tests.fakes import closed_url
from tests.fakes import serve as serve_fake
from tests.fakes.anilist import FakeAniList
from tracker import create_app
from tracker.api import access
from tracker.extensions import db
from tracker.models import LibraryItem, Media, MediaType, Status, utcnow
from tracker.services import accounts, backfill, catalog

CATALOGUES = (20_000, 200_000)
REQUESTS = 300
WARMUP = 20
MISS_CALLS = 20
SCAN_QUERIES = 100
MISS_QUERY = "frieren"  # in the fake AniList, in none of the generated titles
BACKFILL_ITEMS = 2_000
FIRST_LOCAL_ID = 1_000_000  # clear of the fake's own ids (1…900001)
SIGNED_IN_FLOOR = "/bench/signed-in"

CONFIG = {
    "ENV": "testing",
    "TESTING": True,
    "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-hs256",
    "ENCRYPTION_KEY": "ZmFrZS1rZXktZm9yLXRlc3RzLW9ubHktMzItYnl0ZXM=",
    "RATELIMIT_ENABLED": False,
    "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    "DEMO_USER": False,
    "ANILIST_RATE_PER_MINUTE": 100_000,  # the budget must not be what is measured
    "REMOTE_OPTIONS": {"timeout": (2.0, 5.0), "interactive_timeout": (1.0, 2.0)},
}

ROMAJI = (
    "Kimi", "Sekai", "Hoshi", "Sora", "Yume", "Tenshi", "Mahou", "Shoujo", "Kaze", "Tsuki",
    "Hikari", "Kage", "Ryuu", "Sakura", "Yuki", "Hana", "Kokoro", "Mirai", "Densetsu", "Gakuen",
    "Tensei", "Majutsu", "Kishi", "Oujo", "Shinobi", "Seishun", "Boukensha", "Kami", "Akuma",
    "Ookami",
)  # fmt: skip
KINDS = ("Monogatari", "Senki", "Nikki", "Kiroku", "Sensou", "Tabi", "Uta", "Jikan")
ENGLISH = (
    "Academy", "Chronicles", "Legend", "Quest", "Hero", "Witch", "Dragon", "Knight", "Princess",
    "Summer", "Winter", "Blade", "Garden", "Empire", "Detective", "Idol", "Alchemist", "Requiem",
    "Frontier", "Labyrinth",
)  # fmt: skip
SUFFIXES = ("", "", "", " 2", " Season 3", ": Final Chapter", " Zero", " Next", " Movie", " OVA")


def run() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        for size in CATALOGUES:
            figures = _autocomplete(Path(tmp) / f"autocomplete-{size}.db", size)
            results.update({f"{size // 1000}k_{key}": value for key, value in figures.items()})
        results.update(_backfill(Path(tmp) / "backfill.db"))
    return results


# --- setup --------------------------------------------------------------------------


@contextmanager
def _app_on(path: Path, **config: Any) -> Iterator[Flask]:
    """The app on a new SQLite file migrated by Alembic, with AniList at ``config``'s URL."""
    app = create_app(
        {**CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "MANGADEX_API_URL": closed_url()}
        | config
    )
    with app.app_context():
        logging.disable(logging.INFO)  # Alembic logs each revision it runs
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _titles(rng: random.Random, n: int) -> Iterator[tuple[str, str]]:
    """(romaji, english) pairs, varied; romaji titles are unique, as the merge of
    suggestions keeps one title per (normalised title, type)."""
    seen: set[str] = set()
    for k in range(n):
        first, second = rng.sample(ROMAJI, 2)
        romaji = f"{first} no {second} {rng.choice(KINDS)}{rng.choice(SUFFIXES)}"
        if romaji in seen:
            romaji = f"{romaji} Part {k}"
        seen.add(romaji)
        english = f"The {rng.choice(ENGLISH)} of {second}"
        if k % 5 == 0:
            english += f" {rng.randint(2, 12)}"
        yield romaji, english


def _fill_catalogue(n: int) -> None:
    rng = random.Random(20_000)
    rows = []
    for k, (romaji, english) in enumerate(_titles(rng, n)):
        anilist_id = FIRST_LOCAL_ID + k
        kind = MediaType.MANGA.value if k % 10 < 3 else MediaType.ANIME.value
        rows.append(
            {
                "source": "anilist",
                "external_id": str(anilist_id),
                "anilist_id": anilist_id,
                "media_type": kind,
                "title_romaji": romaji,
                "title_english": english,
                "title_preferred": romaji,
                "synonyms": [],
                "search_text": catalog.search_text_for([romaji, english]),
                "episodes": rng.randint(1, 64) if kind == MediaType.ANIME else None,
                "chapters": rng.randint(5, 300) if kind == MediaType.MANGA else None,
                "year": rng.randint(1985, 2025),
                "fetched_at": utcnow(),
            }
        )
    db.session.execute(insert(Media), rows)
    db.session.commit()


def _local_count(query: str, media_type: str | None) -> int:
    return len(catalog.search_local(query, media_type, catalog.SUGGESTIONS))


def _local_queries(n: int) -> list[dict[str, str]]:
    """``n`` autocomplete parameter sets that the catalogue fills on its own (10+ hits)."""
    rng = random.Random(300)
    candidates: list[dict[str, str]] = []
    for word in ROMAJI + ENGLISH + KINDS:
        candidates.append({"q": word.lower()})  # a whole word, typed in lower case
        candidates.append({"q": word[:3]})  # the first keystrokes
    for _ in range(60):
        candidates.append({"q": f"{rng.choice(ROMAJI)} no {rng.choice(ROMAJI)}"})  # a phrase
        candidates.append({"q": f"the {rng.choice(ENGLISH)}".upper(), "type": "anime"})
        candidates.append({"q": rng.choice(KINDS), "type": "manga"})
    usable = [c for c in candidates if _local_count(c["q"], c.get("type")) >= catalog.SUGGESTIONS]
    return [rng.choice(usable) for _ in range(n)]


def _bearer_token(base: str, session: requests.Session) -> str:
    account = {"username": "bench", "password": "password123"}
    session.post(f"{base}/api/auth/register", json=account, timeout=10).raise_for_status()
    answer = session.post(f"{base}/api/auth/token", data=account, timeout=10)
    answer.raise_for_status()
    return answer.json()["access_token"]


def _bare_app() -> Flask:
    bare = Flask("bench_bare")
    bare.add_url_rule("/", "ok", lambda: "ok")
    return bare


def _add_signed_in_floor(app: Flask) -> None:
    """A route of the app that lets a bearer-JWT caller in and answers ``{}``: what any
    API request costs in this stack before it does anything."""
    app.add_url_rule(SIGNED_IN_FLOOR, "bench_signed_in", access.login_required(lambda: {}))


def _graphql_requests(fake: FakeAniList) -> int:
    return sum(1 for operation in fake.operations if not operation.startswith("oauth/"))


def _ms(value: float) -> float:
    return round(value, 2)


# --- 1. autocomplete ----------------------------------------------------------------


def _autocomplete(path: Path, size: int) -> dict[str, Any]:
    fake = FakeAniList()
    fake_url, stop_fake = serve_fake(fake)
    try:
        with _app_on(path, ANILIST_GRAPHQL_URL=fake_url) as app:
            started = time.perf_counter()
            with app.app_context():
                _fill_catalogue(size)  # the FTS5 triggers index each row as it goes in
                fill_seconds = time.perf_counter() - started
                queries = _local_queries(WARMUP + REQUESTS)
                in_process = _index_against_scan(queries[:SCAN_QUERIES])
            return {
                "catalogue_titles": size,
                "catalogue_insert_s": round(fill_seconds, 2),
                **in_process,
                **_measure_autocomplete(app, fake, queries, misses=size == min(CATALOGUES)),
            }
    finally:
        stop_fake()


def _index_against_scan(queries: list[dict[str, str]]) -> dict[str, Any]:
    """``search_local`` next to the substring scan it replaced, in process, same queries."""

    def scan(query: str, media_type: str | None) -> list[Media]:
        statement = select(Media).where(
            Media.search_text.contains(catalog.normalise(query), autoescape=True)
        )
        if media_type:
            statement = statement.where(Media.media_type == media_type)
        starts = Media.search_text.startswith(catalog.normalise(query), autoescape=True)
        statement = statement.order_by(starts.desc(), Media.title_preferred).limit(10)
        return list(db.session.scalars(statement))

    index_ms: list[float] = []
    scan_ms: list[float] = []
    for params in queries:
        q, kind = params["q"], params.get("type")
        index_ms.append(timed(partial(catalog.search_local, q, kind, catalog.SUGGESTIONS))[0])
        scan_ms.append(timed(partial(scan, q, kind))[0])
        db.session.rollback()
    return {
        "search_local_p95_ms": _ms(percentile(index_ms, 95)),
        "old_scan_p95_ms": _ms(percentile(scan_ms, 95)),
    }


def _measure_autocomplete(
    app: Flask, fake: FakeAniList, queries: list[dict[str, str]], *, misses: bool
) -> dict[str, Any]:
    _add_signed_in_floor(app)
    server = Timed(app.wsgi_app)  # the app's own time and CPU per request, inside the server
    app.wsgi_app = server
    app_url, stop_app = serve(app)
    bare_url, stop_bare = serve(_bare_app())
    try:
        with requests.Session() as to_app, requests.Session() as to_bare:
            to_app.headers["Authorization"] = f"Bearer {_bearer_token(app_url, to_app)}"
            autocomplete_url = f"{app_url}/api/sources/autocomplete"

            def ask(params: dict[str, str]) -> dict[str, Any]:
                answer = to_app.get(autocomplete_url, params=params, timeout=10)
                answer.raise_for_status()
                return answer.json()

            def bare() -> str:
                answer = to_bare.get(bare_url, timeout=10)
                answer.raise_for_status()
                return answer.text

            def signed_in() -> None:
                to_app.get(f"{app_url}{SIGNED_IN_FLOOR}", timeout=10).raise_for_status()

            app_ms: list[float] = []
            bare_ms: list[float] = []
            signed_in_ms: list[float] = []
            short_answers = 0
            server.clear()
            for n, params in enumerate(queries):  # interleaved: all see the same machine
                bare_elapsed, _ = timed(bare)
                signed_in_elapsed, _ = timed(signed_in)
                app_elapsed, body = timed(lambda p=params: ask(p))
                short_answers += len(body["results"]) < catalog.SUGGESTIONS
                if n >= WARMUP:
                    bare_ms.append(bare_elapsed)
                    signed_in_ms.append(signed_in_elapsed)
                    app_ms.append(app_elapsed)
            local_upstream = _graphql_requests(fake)
            seconds, cpu_seconds = server.of("/api/sources/autocomplete")
            server_ms = [s * 1000 for s in seconds[WARMUP:]]
            server_cpu_ms = [s * 1000 for s in cpu_seconds[WARMUP:]]
            floor_seconds, _ = server.of(SIGNED_IN_FLOOR)
            signed_in_server_ms = [s * 1000 for s in floor_seconds[WARMUP:]]

            if misses:
                miss_ms = [timed(lambda: ask({"q": MISS_QUERY}))[0] for _ in range(MISS_CALLS)]
                miss_upstream = _graphql_requests(fake) - local_upstream
                found = {r["title"] for r in ask({"q": MISS_QUERY})["results"]}
    finally:
        stop_app()
        stop_bare()
        app.wsgi_app = server.wsgi_app

    app_p50, app_p95 = percentile(app_ms, 50), percentile(app_ms, 95)
    bare_p50, bare_p95 = percentile(bare_ms, 50), percentile(bare_ms, 95)
    figures = {
        "autocomplete_requests": len(app_ms),
        "autocomplete_p50_ms": _ms(app_p50),
        "autocomplete_p95_ms": _ms(app_p95),
        "bare_flask_p50_ms": _ms(bare_p50),
        "bare_flask_p95_ms": _ms(bare_p95),
        "ratio_p50": round(app_p50 / bare_p50, 1),
        "ratio_p95": round(app_p95 / bare_p95, 1),
        "signed_in_noop_p50_ms": _ms(percentile(signed_in_ms, 50)),
        "signed_in_noop_p95_ms": _ms(percentile(signed_in_ms, 95)),
        "signed_in_noop_server_p50_ms": _ms(percentile(signed_in_server_ms, 50)),
        "signed_in_noop_server_p95_ms": _ms(percentile(signed_in_server_ms, 95)),
        "server_p50_ms": _ms(percentile(server_ms, 50)),
        "server_p95_ms": _ms(percentile(server_ms, 95)),
        "server_cpu_p50_ms": _ms(percentile(server_cpu_ms, 50)),
        "server_cpu_p95_ms": _ms(percentile(server_cpu_ms, 95)),
        "local_short_answers": short_answers,  # 0: every query filled its 10 locally
        "local_upstream_requests": local_upstream,  # 0: no local hit asked AniList
    }
    if not misses:
        return figures
    return (
        figures
        | {
            "miss_calls": MISS_CALLS,
            "miss_upstream_requests": miss_upstream,  # 1: the rest came from the cache
            "miss_found": "Sousou no Frieren" in found,
            "miss_first_ms": _ms(miss_ms[0]),
            "miss_cached_p50_ms": _ms(percentile(miss_ms[1:], 50)),
        }
    )


# --- 2. backfill --------------------------------------------------------------------


def _backfill(path: Path) -> dict[str, Any]:
    fake = FakeAniList()
    wanted = fake.add_media(BACKFILL_ITEMS)
    fake_url, stop_fake = serve_fake(fake)
    try:
        with _app_on(path, ANILIST_GRAPHQL_URL=fake_url) as app, app.app_context():
            started = time.perf_counter()
            _stub_library(wanted)
            setup_seconds = time.perf_counter() - started

            waits: list[float] = []
            started = time.perf_counter()
            report = backfill.run(sleep=waits.append)
            seconds = time.perf_counter() - started

            filled = db.session.scalar(
                select(func.count(Media.id)).where(Media.episodes.is_not(None))
            )
    finally:
        stop_fake()
    return {
        "backfill_items": BACKFILL_ITEMS,
        "backfill_setup_s": round(setup_seconds, 2),
        "backfill_s": round(seconds, 2),
        "backfill_requests": _graphql_requests(fake),  # 40: 50 ids a request
        "backfill_items_per_s": round(BACKFILL_ITEMS / seconds),
        "backfill_fetched": report.fetched,
        "backfill_filled": filled,
        "backfill_unresolved": len(report.unresolved),
        "backfill_budget_waits": len(waits),
    }


def _stub_library(wanted: list[dict[str, Any]]) -> None:
    """One user keeping every title by AniList id only, as ``add_item`` leaves them."""
    user = accounts.register("backfill", "password123")
    now = utcnow()
    rows = []
    for record in wanted:
        title = record["title"]["romaji"]
        media = catalog.get_or_create_media(
            "anilist", str(record["id"]), media_type=MediaType.ANIME.value
        )
        rows.append(
            {
                "user_id": user.id,
                "media_id": media.id,
                "media_type": MediaType.ANIME.value,
                "title": title,
                "status": Status.PLANNING.value,
                "progress": 0,
                "repeat": 0,
                "private": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    db.session.execute(insert(LibraryItem), rows)
    db.session.commit()
