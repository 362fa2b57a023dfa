"""The local catalogue (``media``), shared by every user, fed by AniList and MangaDex.

Local first: what anyone has searched or kept before is found instantly and
offline. Remote answers are cached per normalised query for a TTL and upserted
into ``media``. A remote source that fails never turns an answer into an error:
its state says so.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    case,
    column,
    exists,
    literal,
    literal_column,
    or_,
    select,
    table,
    tuple_,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import load_only
from sqlalchemy.sql.functions import FunctionElement

from tracker import metrics
from tracker.clients import ClientError, MediaRecord
from tracker.clients import NotFound as RemoteNotFound
from tracker.extensions import db
from tracker.models import SEARCH_INDEX_TABLE, LibraryItem, Media, MediaType, User, utcnow
from tracker.services.errors import NotFound, invalid
from tracker.services.remote import NOT_ASKED, OK, remote, state_of

MAX_QUERY = 200
MIN_REMOTE_QUERY = 2  # one letter matches half the catalogue: answer it locally
SUGGESTIONS = 10
SOURCES = ("local", "anilist", "mangadex")
TITLE_LANGUAGES = ("romaji", "english", "native")


@dataclass
class SearchAnswer:
    results: list[dict[str, Any]]
    sources: dict[str, str]
    # When each remote source last answered well (None: not since the server started).
    sources_last_ok_at: dict[str, datetime | None] = field(default_factory=dict)


# --- text -------------------------------------------------------------------


def normalise(text: str) -> str:
    """Case-, width- and space-insensitive form used for matching and cache keys."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", folded).strip()


def search_text_for(titles: Iterable[str | None]) -> str:
    """What local search matches: every known title, normalised, one per line."""
    seen: dict[str, None] = {}
    for title in titles:
        if title and title.strip():
            seen.setdefault(normalise(title), None)
    return "\n".join(seen)


def check_query(query: str | None) -> str:
    text = (query or "").strip()
    if not text:
        raise invalid("q", "Type something to search for.")
    if len(text) > MAX_QUERY:
        raise invalid("q", f"Search for at most {MAX_QUERY} characters.")
    return text


# --- local catalogue -------------------------------------------------------------


def find_media(source: str, external_id: str) -> Media | None:
    return db.session.scalar(
        select(Media).where(Media.source == source, Media.external_id == str(external_id))
    )


def get_or_create_media(source: str, external_id: str, *, media_type: str) -> Media:
    """The catalogue entry for a remote id, created as a stub if this is its first sight.

    The catalogue is shared, so it is written only from AniList's and MangaDex's answers:
    a stub holds the id and nothing a person typed (no title for search to find, no
    cover), and what they typed stays on their own item. A stub has no ``fetched_at``;
    backfill, a refresh or a sync fills it in later.
    """
    media = find_media(source, external_id)
    if media is None:
        media = Media(
            source=source,
            external_id=str(external_id),
            anilist_id=_anilist_id(source, external_id),
            media_type=media_type,  # needed now; the first answer sets it for good
            title_preferred="",
            synonyms=[],
            search_text="",
        )
        db.session.add(media)
        db.session.flush()
    return media


def search_local(query: str, media_type: str | None = None, limit: int = 10) -> list[Media]:
    """Catalogue entries whose titles contain ``query``, in one statement through the
    title index: a whole title first, then titles starting with it, then the rest.

    The work is bounded whatever the catalogue's size: up to ``TIER_CANDIDATES``
    title starts and as many other matches are ranked. Queries shorter than a
    trigram match title starts only, among the first ``SHORT_QUERY_SCAN`` found.
    The entries come with the columns a suggestion shows (``SUGGESTED``); any other
    is read when first asked for.
    """
    return [media for media, _mine in _local_matches(query, media_type, limit, owner=None)]


def _local_matches(
    query: str, media_type: str | None, limit: int, *, owner: int | None
) -> list[tuple[Media, bool]]:
    """``search_local``'s entries, each with whether ``owner`` has it in their library
    (False without an owner), still in one statement."""
    needle = normalise(query)
    if not needle:
        return []
    dialect = db.session.get_bind().dialect.name
    indexed = len(needle) >= MIN_INDEXED_QUERY
    statement = _search_statement(
        dialect, indexed, typed=media_type is not None, owned=owner is not None
    )
    start = f"\n{needle}"
    params = {"needle": needle, "start": start, "whole": f"{start}\n", "media_type": media_type,
              "limit": limit, "tier": TIER_CANDIDATES, "scan": SHORT_QUERY_SCAN}  # fmt: skip
    if indexed and dialect == "sqlite":
        params |= {"match_start": _some_trigrams(start), "match_any": _some_trigrams(needle)}
    elif indexed:
        escaped = needle.replace("/", "//").replace("%", "/%").replace("_", "/_")
        params |= {"like_start": f"{escaped}%", "like_line": f"%\n{escaped}%",
                   "like_any": f"%{escaped}%"}  # fmt: skip
    if owner is None:
        return [(media, False) for media in db.session.scalars(statement, params)]
    params["owner"] = owner
    return [(media, bool(mine)) for media, mine in db.session.execute(statement, params)]


MIN_INDEXED_QUERY = 3  # a trigram index finds nothing shorter than one trigram
# Ranking is by title among the candidates: 200 of each tier costs half of what 500 did,
# and among more matches than that, which 200 are ranked is as arbitrary as which 500.
TIER_CANDIDATES = 200
SHORT_QUERY_SCAN = 500

_title_index = table(SEARCH_INDEX_TABLE, column("rowid"))
# search_text holds one normalised title a line: framed by newlines, a title start
# is "\n" + needle and a whole title "\n" + needle + "\n".
_LINES_FROM = literal("\n") + Media.search_text
_LINES = _LINES_FROM + literal("\n")


class text_position(FunctionElement):
    """Where ``needle`` first occurs in ``text`` (1-based; 0 when absent)."""

    type = Integer()
    inherit_cache = True


@compiles(text_position, "sqlite")
def _position_sqlite(element: text_position, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(text_position)
def _position_default(element: text_position, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def _text(name: str):
    return bindparam(name, type_=String())


@functools.cache
def _search_statement(dialect: str, indexed: bool, *, typed: bool, owned: bool) -> Select:
    """The search for one shape of query, built once: its values (the needle in its
    forms, the type, the limit, the ``owner``) are bound at execution. Building and
    keying a statement this size cost more than running it. ``owned`` adds whether each
    entry is in the owner's library, so the answer needs no statement of its own."""
    if indexed:
        found = or_(*(Media.id.in_(tier.limit(bindparam("tier"))) for tier in _tiers(dialect)))
        statement = select(Media).where(found)
        if typed:
            statement = statement.where(Media.media_type == _text("media_type"))
    else:
        candidates = select(Media.id).where(text_position(_LINES_FROM, _text("start")) > 0)
        if typed:
            candidates = candidates.where(Media.media_type == _text("media_type"))
        statement = select(Media).where(Media.id.in_(candidates.limit(bindparam("scan"))))
    rank = case(
        (text_position(_LINES, _text("whole")) > 0, 0),
        (text_position(_LINES_FROM, _text("start")) > 0, 1),
        else_=2,
    )
    statement = statement.options(load_only(*SUGGESTED))
    if owned:
        mine = exists().where(LibraryItem.user_id == bindparam("owner"),
                              LibraryItem.media_id == Media.id)  # fmt: skip
        statement = statement.add_columns(mine.label("in_library"))
    return statement.order_by(rank, Media.title_preferred, Media.id).limit(bindparam("limit"))


def _tiers(dialect: str) -> list[Select]:
    """Ids of titles starting with the needle, then of titles containing it, found
    through the dialect's trigram index (each to be bounded by the caller)."""
    if dialect == "sqlite":
        return [
            _fts_tier(_LINES_FROM, "start", "match_start"),
            _fts_tier(Media.search_text, "needle", "match_any"),
        ]
    # pg_trgm serves LIKE; the patterns are escaped with "/".
    starts = or_(
        Media.search_text.like(_text("like_start"), escape="/"),
        Media.search_text.like(_text("like_line"), escape="/"),
    )
    contains = Media.search_text.like(_text("like_any"), escape="/")
    return [select(Media.id).where(starts), select(Media.id).where(contains)]


def _fts_tier(text: ColumnElement[str], pattern: str, trigrams: str) -> Select:
    """Ids whose ``text`` contains the ``pattern`` bound: FTS5 narrows to the rows
    holding some of its ``trigrams``, ``instr`` keeps those that hold the whole of it."""
    match = literal_column(SEARCH_INDEX_TABLE).op("MATCH")(_text(trigrams))
    return (
        select(Media.id)
        .join(_title_index, _title_index.c.rowid == Media.id)
        .where(match, text_position(text, _text(pattern)) > 0)
    )


def _some_trigrams(text: str) -> str:
    """An FTS5 query for every other trigram of ``text`` (and its last), leaving out
    those with a space when it can: they are in nearly every title, and a phrase of
    every trigram costs several times more than the check that follows."""
    grams = [text[i : i + 3] for i in range(len(text) - 2)]
    picked = [g for g in grams if " " not in g] or grams
    picked = list(dict.fromkeys(picked[::2] + picked[-1:]))
    return " AND ".join('"{}"'.format(g.replace('"', '""')) for g in picked)  # never operators


def upsert_records(records: Iterable[MediaRecord], *, update: bool = True) -> list[Media]:
    """Store remote answers in the catalogue (one query to find what exists).

    With ``update`` false, entries already in the catalogue are left as they are.
    """
    records = list(records)
    if not records:
        return []
    keys = [(r["source"], r["external_id"]) for r in records]
    existing = {
        (m.source, m.external_id): m
        for m in db.session.scalars(
            select(Media).where(tuple_(Media.source, Media.external_id).in_(keys))
        )
    }
    stored: list[Media] = []
    for record in records:
        key = (record["source"], record["external_id"])
        media = existing.get(key)
        if media is None:
            media = existing[key] = Media(source=key[0], external_id=key[1])
            db.session.add(media)
            _fill(media, record)
        elif update:
            _fill(media, record)
        stored.append(media)
    db.session.flush()
    return stored


REFRESHED_WITHIN = timedelta(days=1)


def _fill(media: Media, record: MediaRecord) -> None:
    """Copy a remote record onto a catalogue entry. Unchanged data writes nothing, so
    re-reading a long list costs no updates (``fetched_at`` moves at most daily)."""
    before = _comparable(media)
    titles = record["titles"]
    media.anilist_id = record.get("anilist_id") or media.anilist_id
    media.mal_id = record.get("mal_id") or media.mal_id
    media.media_type = record["type"]
    media.title_romaji = titles.get("romaji")
    media.title_english = titles.get("english")
    media.title_native = titles.get("native")
    media.title_preferred = (
        titles.get("romaji") or titles.get("english") or titles.get("native") or "Untitled"
    )
    media.synonyms = list(record.get("synonyms") or [])
    media.search_text = search_text_for([*titles.values(), *media.synonyms])
    for name in ("cover_url", "format", "site_url", "episodes", "chapters", "volumes", "status",
                 "year", "next_airing_episode", "season", "synopsis", "duration"):  # fmt: skip
        setattr(media, name, record.get(name))
    media.genres = list(record.get("genres") or []) or None
    media.studios = list(record.get("studios") or []) or None
    airing = record.get("next_airing_at")
    media.next_airing_at = datetime.fromtimestamp(airing, UTC) if airing else None
    now = utcnow()
    stale = media.fetched_at is None or media.fetched_at < now - REFRESHED_WITHIN
    if stale or _comparable(media) != before:
        media.fetched_at = now


def _comparable(media: Media) -> tuple[Any, ...]:
    return tuple(getattr(media, column.key) for column in Media.__table__.columns
                 if column.key != "fetched_at")  # fmt: skip


def _anilist_id(source: str, external_id: str) -> int | None:
    return int(external_id) if source == "anilist" and str(external_id).isdigit() else None


# --- suggestions -----------------------------------------------------------------


def title_in(media: Media, language: str | None) -> str:
    by_language = {
        "romaji": media.title_romaji,
        "english": media.title_english,
        "native": media.title_native,
    }
    preferred = by_language.get(language or "romaji")
    return preferred or media.title_preferred


# What ``suggestion`` and ``_merge`` read of an entry: all that local search loads. The
# rest (the synopsis, JSON lists, timestamps) would cost more to load than the search.
SUGGESTED = (
    Media.source, Media.external_id, Media.anilist_id, Media.mal_id, Media.media_type,
    Media.title_romaji, Media.title_english, Media.title_native, Media.title_preferred,
    Media.cover_url, Media.format, Media.episodes, Media.chapters, Media.status, Media.year,
)  # fmt: skip


def suggestion(media: Media, language: str | None, in_library: bool) -> dict[str, Any]:
    return {
        "source": media.source,
        "external_id": media.external_id,
        "anilist_id": media.anilist_id,
        "mal_id": media.mal_id,
        "mangadex_id": media.external_id if media.source == "mangadex" else None,
        "type": media.media_type,
        "title": title_in(media, language),
        "titles": {
            "romaji": media.title_romaji,
            "english": media.title_english,
            "native": media.title_native,
        },
        "cover_url": media.cover_url,
        "format": media.format,
        "total": media.total,
        "status": media.status,
        "year": media.year,
        "in_library": in_library,
    }


def _merge(groups: Iterable[Iterable[Media]]) -> list[Media]:
    """De-duplicate by AniList id, then MAL id; a title known by neither (a MangaDex
    title AniList has no link for) is dropped when a listed title has the same name.
    Two AniList titles that share a name (a remake, say) both stay."""
    media = [m for group in groups for m in group]
    kept: list[Media] = []
    seen: set[tuple[Any, ...]] = set()
    for item in media:
        keys = set()
        if item.anilist_id:
            keys.add(("anilist", item.anilist_id))
        if item.mal_id:
            keys.add(("mal", item.media_type, item.mal_id))
        if keys & seen:
            continue
        seen |= keys
        kept.append(item)
    named = {_title_key(m) for m in kept if m.anilist_id or m.mal_id}
    merged = []
    for item in kept:
        if not (item.anilist_id or item.mal_id):
            if _title_key(item) in named:
                continue
            named.add(_title_key(item))
        merged.append(item)
    return merged


def _title_key(media: Media) -> tuple[str, str]:
    return (media.media_type, normalise(media.title_preferred))


def _answer(
    user_id: int | None,
    found: list[Media],
    sources: dict[str, str],
    language: str | None,
    local: list[tuple[Media, bool]],
) -> SearchAnswer:
    """The suggestions, each marked in the library or not: known already for the local
    matches (``_local_matches``), asked for the remote ones only."""
    language = language or _language(user_id)
    checked = {media.id for media, _mine in local}
    owned = {media.id for media, mine in local if mine}
    owned |= _in_library(user_id, [m.id for m in found if m.id not in checked])
    return SearchAnswer(
        results=[suggestion(m, language, m.id in owned) for m in found], sources=sources
    )


def _language(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    return (user.preferences or {}).get("title_language") if user else None


def _in_library(user_id: int | None, media_ids: list[int]) -> set[int]:
    if user_id is None or not media_ids:
        return set()
    return set(db.session.scalars(_OWNED, {"user": user_id, "media": media_ids}))


_OWNED = select(LibraryItem.media_id).where(
    LibraryItem.user_id == bindparam("user"),
    LibraryItem.media_id.in_(bindparam("media", expanding=True)),
)


# --- remote searches ----------------------------------------------------------------


def _remote_search(
    source: str, query: str, media_type: str | None, *, interactive: bool
) -> tuple[list[Media], str]:
    """Catalogue entries for one query from one source, and the source's state.

    Cached per normalised query, single-flight within a process, failures
    remembered for a shorter TTL: at most one upstream request per query per TTL.
    """
    sources = remote()
    key = f"search:{source}:{media_type or 'any'}:{normalise(query)}"[:255]
    cached = sources.cache.get(key)
    if cached is None:
        with sources.single_flight(key):
            cached = sources.cache.get(key)  # someone else may have just asked
            metrics.record_search_cache(source, hit=cached is not None)
            if cached is None:
                cached = _ask(source, query, media_type, interactive=interactive)
                _store(cached["records"], update=True)
                ttl = sources.search_ttl if cached["state"] == OK else sources.failure_ttl
                sources.cache.set(key, cached, ttl)
    else:
        metrics.record_search_cache(source, hit=True)
    return _store(cached["records"], update=False), cached["state"]


def _store(records: list[MediaRecord], *, update: bool) -> list[Media]:
    try:
        stored = upsert_records(records, update=update)
        db.session.commit()
    except IntegrityError:  # another process stored the same title a moment ago
        db.session.rollback()
        stored = upsert_records(records, update=update)
        db.session.commit()
    return stored


def _ask(source: str, query: str, media_type: str | None, *, interactive: bool) -> dict:
    sources = remote()
    try:
        if source == "anilist":
            records = sources.anilist.search_media(
                query, media_type, per_page=SUGGESTIONS, interactive=interactive
            )
        else:
            records = sources.mangadex.search_manga(
                query, limit=SUGGESTIONS, interactive=interactive
            )
    except ClientError as error:
        state = state_of(error)
        sources.health.record(source, state)
        return {"state": state, "records": []}
    sources.health.record(source, OK)
    return {"state": OK, "records": records}


def _remote_sources_for(media_type: str | None, wanted: str | None) -> list[str]:
    names = ["anilist"]
    if media_type in (None, MediaType.MANGA):
        names.append("mangadex")
    return [n for n in names if wanted in (None, n)]


def _search(
    user_id: int | None,
    query: str,
    media_type: str | None,
    *,
    source: str | None,
    interactive: bool,
    local_enough: bool,
    language: str | None,
) -> SearchAnswer:
    query = check_query(query)
    if media_type is not None and media_type not in (t.value for t in MediaType):
        raise invalid("type", "Type must be anime or manga.")
    if source is not None and source not in SOURCES:
        raise invalid("source", f"Source must be one of: {', '.join(SOURCES)}.")
    matches = []
    if source in (None, "local"):
        matches = _local_matches(query, media_type, SUGGESTIONS, owner=user_id)
    local = [media for media, _mine in matches]
    states = {"local": OK}
    groups: list[list[Media]] = [local]
    health = remote().health
    asked = []
    for name in _remote_sources_for(media_type, source if source != "local" else "-"):
        if interactive and health.failing(name, remote().failure_ttl):
            states[name] = health.state(name)  # it just failed: answer locally at once
            continue
        unneeded = len(query) < MIN_REMOTE_QUERY or (local_enough and len(local) >= SUGGESTIONS)
        if name == "mangadex" and interactive and media_type is None:
            unneeded = True  # autocomplete without a type: AniList covers manga too
        states[name] = NOT_ASKED if unneeded else OK
        if not unneeded:
            asked.append(name)
    if asked:
        db.session.commit()  # end the read before slow remote calls
    for name in asked:
        found, states[name] = _remote_search(name, query, media_type, interactive=interactive)
        groups.append(found)
    found = _merge(groups)[: SUGGESTIONS * 2 if not interactive else SUGGESTIONS]
    answer = _answer(user_id, found, states, language, matches)
    answer.sources_last_ok_at = {name: health.last_ok_at(name) for name in states
                                 if name != "local"}  # fmt: skip
    return answer


def autocomplete(
    user_id: int | None, query: str, media_type: str | None = None, *, language: str | None = None
) -> SearchAnswer:
    """Fast suggestions: the local catalogue first, AniList only on a miss, never waiting.

    ``language`` is the person's title language when the caller has it (from the user
    row it loaded); without it, it is read from their preferences."""
    return _search(user_id, query, media_type, source=None, interactive=True, local_enough=True,
                   language=language)  # fmt: skip


def search(
    user_id: int | None,
    query: str,
    media_type: str | None = None,
    source: str | None = None,
    *,
    language: str | None = None,
) -> SearchAnswer:
    """Full search across the local catalogue and the remote sources (``language``: as
    for ``autocomplete``)."""
    return _search(user_id, query, media_type, source=source, interactive=False,
                   local_enough=False, language=language)  # fmt: skip


def source_list() -> list[dict[str, Any]]:
    sources = remote()
    return [
        {"name": "local", "state": OK, "url": None},
        {"name": "anilist", "state": sources.health.state("anilist"), "url": sources.anilist.url},
        {"name": "mangadex", "state": sources.health.state("mangadex"),
         "url": sources.mangadex.url},
    ]  # fmt: skip


# --- totals and refresh -----------------------------------------------------------------


def fetch_anilist_media(anilist_id: int) -> tuple[Media | None, str]:
    """The catalogue entry for an AniList id, re-read from AniList; (None, state) on failure."""
    sources = remote()
    db.session.commit()
    try:
        record = sources.anilist.media(anilist_id)
    except RemoteNotFound:
        sources.health.record("anilist", OK)
        raise NotFound(f"AniList has no title with id {anilist_id}.") from None
    except ClientError as error:
        sources.health.record("anilist", state_of(error))
        return None, state_of(error)
    sources.health.record("anilist", OK)
    (media,) = _store([record], update=True)
    return media, OK


def max_progress(
    user_id: int | None, *, query: str | None, anilist_id: int | None, media_type: str | None
) -> dict[str, Any]:
    """How many episodes or chapters a title has: local catalogue first, then AniList."""
    state = OK
    if anilist_id is not None:
        media = db.session.scalar(select(Media).where(Media.anilist_id == anilist_id))
        if media is None or media.fetched_at is None:
            # A stub knows nothing worth telling (and never what someone typed).
            media, state = fetch_anilist_media(anilist_id)
    else:
        answer = search(user_id, check_query(query), media_type)
        state = answer.sources.get("anilist", OK)
        state = OK if state == NOT_ASKED else state
        first = answer.results[0] if answer.results else None
        media = find_media(first["source"], first["external_id"]) if first else None
    if media is None:
        if state != OK:
            return {"anilist_id": anilist_id, "type": media_type, "title": None, "max": None,
                    "sources": {"anilist": state}}  # fmt: skip
        raise NotFound("No title matches.")
    return {
        "anilist_id": media.anilist_id,
        "type": media.media_type,
        "title": title_in(media, _language(user_id)),
        "max": media.total,
        "sources": {"anilist": state},
    }
