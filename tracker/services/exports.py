"""Exporting a library: this app's JSON (with the history) and CSV, and MyAnimeList XML.

The file is streamed: items are read in pages by id (keyset, a page of items and, for
JSON, one statement for their history per page), so memory stays flat and the number of
statements grows with pages, not items. Nothing is written.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import MEDIA_TYPES, ItemEvent, LibraryItem, Media, User, utcnow
from tracker.portability import TO_MAL_STATUS, mal_writer, tracker_files
from tracker.services.errors import invalid

FORMATS = ("json", "csv", "mal")
MIMETYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "mal": "application/xml; charset=utf-8",
}
EXTENSIONS = {"json": "json", "csv": "csv", "mal": "xml"}
PAGE_SIZE = 200

Progress = Callable[[int], None]

_ITEM_COLUMNS = (
    LibraryItem.id,
    LibraryItem.media_type.label("type"),
    LibraryItem.title,
    LibraryItem.status,
    LibraryItem.progress,
    LibraryItem.progress_volumes,
    LibraryItem.max_progress_override.label("max_progress"),
    LibraryItem.score,
    LibraryItem.notes,
    LibraryItem.repeat,
    LibraryItem.private,
    LibraryItem.started_on,
    LibraryItem.completed_on,
    LibraryItem.created_at,
    LibraryItem.updated_at,
    LibraryItem.cover_url,
    LibraryItem.custom_lists,
    Media.source,
    Media.anilist_id,
    Media.mal_id,
    Media.external_id,
    Media.format,
    Media.episodes,
    Media.chapters,
    Media.volumes,
)
_EVENT_COLUMNS = (
    ItemEvent.item_id,
    ItemEvent.at,
    ItemEvent.origin,
    ItemEvent.kind,
    ItemEvent.changes,
    ItemEvent.resolved_at,
    ItemEvent.resolution,
)


@dataclass(frozen=True)
class Export:
    """A file about to be written: its name and type, how many items it holds (and, for
    MyAnimeList, how many were left out for want of a MAL id), and its bytes on demand."""

    filename: str
    mimetype: str
    total: int
    left_out: int
    _write: Callable[[Progress | None], Iterator[str]] = field(repr=False)

    def chunks(self, progress: Progress | None = None) -> Iterator[bytes]:
        """The file in pieces; ``progress(n)`` is told as each page of ``n`` items is read."""
        # "replace": a stray lone surrogate in stored JSON never stops the stream halfway.
        return (chunk.encode("utf-8", "replace") for chunk in self._write(progress))


def start(user: User, format: str, media_type: str | None = None) -> Export:
    """The export of ``user``'s library (one type, or both when ``media_type`` is None;
    MyAnimeList files hold one type). Costs one statement until the bytes are read."""
    if format not in FORMATS:
        raise invalid("format", f"Choose one of: {', '.join(FORMATS)}.")
    if media_type is not None and media_type not in MEDIA_TYPES:
        raise invalid("type", f"Choose one of: {', '.join(MEDIA_TYPES)}.")
    if format == "mal" and media_type is None:
        raise invalid("type", "A MyAnimeList file holds one type: choose anime or manga.")
    user_id, username, now = user.id, user.username, utcnow()
    by_status, left_out = _counts(user_id, media_type, mal_only=format == "mal")
    total = sum(by_status.values())
    filename = f"tracker-{media_type or 'library'}-{now:%Y-%m-%d}.{EXTENSIONS[format]}"

    def write(progress: Progress | None) -> Iterator[str]:
        items = _items(user_id, media_type, mal_only=format == "mal",
                       with_events=format == "json", progress=progress)  # fmt: skip
        if format == "json":
            return tracker_files.write_json(items, username=username, exported_at=now)
        if format == "csv":
            return tracker_files.write_csv(items)
        assert media_type is not None
        totals = Counter()
        for status, count in by_status.items():
            totals[TO_MAL_STATUS[(media_type, status)]] += count
        return mal_writer.write_mal(items, media_type=media_type, username=username,
                                    totals=totals, left_out=left_out)  # fmt: skip

    return Export(filename, MIMETYPES[format], total, left_out, write)


def _scope(query, user_id: int, media_type: str | None):
    query = query.where(LibraryItem.user_id == user_id)
    return query if media_type is None else query.where(LibraryItem.media_type == media_type)


def _counts(user_id: int, media_type: str | None, *, mal_only: bool) -> tuple[Counter, int]:
    """Items by status (only those with a MAL id when ``mal_only``), and how many have no
    MAL id then: one statement."""
    has_mal = Media.mal_id.is_not(None)
    query = _scope(
        select(LibraryItem.status, has_mal, func.count())
        .outerjoin(Media, LibraryItem.media_id == Media.id)
        .group_by(LibraryItem.status, has_mal),
        user_id,
        media_type,
    )
    by_status: Counter = Counter()
    left_out = 0
    for status, with_mal, count in db.session.execute(query):
        if mal_only and not with_mal:
            left_out += count
        else:
            by_status[status] += count
    return by_status, left_out


def _items(
    user_id: int,
    media_type: str | None,
    *,
    mal_only: bool,
    with_events: bool,
    progress: Progress | None,
) -> Iterator[dict[str, Any]]:
    """The items in id order, a page at a time, as plain dicts (with ``events`` when
    asked: oldest first)."""
    query = _scope(
        select(*_ITEM_COLUMNS).outerjoin(Media, LibraryItem.media_id == Media.id),
        user_id,
        media_type,
    )
    if mal_only:
        query = query.where(Media.mal_id.is_not(None))
    after = 0
    while True:
        rows = db.session.execute(
            query.where(LibraryItem.id > after).order_by(LibraryItem.id).limit(PAGE_SIZE)
        ).all()
        if not rows:
            return
        after = rows[-1].id
        events = _events(user_id, [row.id for row in rows]) if with_events else {}
        for row in rows:
            yield _item(row, events.get(row.id, []))
        if progress is not None:
            progress(len(rows))
        if len(rows) < PAGE_SIZE:
            return


def _item(row: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
    item = row._asdict()
    source = item.pop("source") or "manual"
    external_id = item.pop("external_id")
    episodes, chapters = item.pop("episodes"), item.pop("chapters")
    item.update(
        source=source,
        mangadex_id=external_id if source == "mangadex" else None,
        total=episodes if item["type"] == "anime" else chapters,
        events=events,
    )
    return item


def _events(user_id: int, item_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The history of these items, oldest first, in one statement."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = db.session.execute(
        select(*_EVENT_COLUMNS)
        .where(ItemEvent.user_id == user_id, ItemEvent.item_id.in_(item_ids))
        .order_by(ItemEvent.item_id, ItemEvent.at, ItemEvent.id)
    )
    for row in rows:
        event = row._asdict()
        found[event.pop("item_id")].append(event)
    return found
