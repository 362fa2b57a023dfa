"""Backfill: fill in missing totals and metadata for titles people keep.

Linked titles are re-read 50 ids per request; title-only items are matched by
search and linked only when the match is unambiguous. Each batch is committed
on its own, so the run can be interrupted and started again at any point.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from tracker.clients import ClientError, MediaRecord, RateLimited
from tracker.extensions import db
from tracker.models import LibraryItem, Media, MediaType, Origin, utcnow
from tracker.services import catalog
from tracker.services.library import record_event
from tracker.services.remote import remote

BATCH = 50  # AniList's largest page
REFETCH_AFTER = timedelta(days=1)  # a title still airing may have a total by then
MAX_WAITS = 10


@dataclass
class BackfillReport:
    planned_media: int = 0
    planned_titles: int = 0
    fetched: int = 0
    linked: int = 0
    requests: int = 0
    unresolved: list[str] = field(default_factory=list)


Progress = Callable[[int], Any]


def media_needing_data(limit: int | None = None) -> list[int]:
    """AniList ids of titles in someone's library whose totals or metadata are missing."""
    stale = utcnow() - REFETCH_AFTER
    total_missing = or_(
        and_(Media.media_type == MediaType.ANIME, Media.episodes.is_(None)),
        and_(Media.media_type == MediaType.MANGA, Media.chapters.is_(None)),
    )
    query = (
        select(Media.anilist_id)
        .where(
            Media.anilist_id.is_not(None),
            Media.id.in_(select(LibraryItem.media_id)),
            or_(Media.fetched_at.is_(None), total_missing & (Media.fetched_at < stale)),
        )
        .order_by(Media.anilist_id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def title_only_items(limit: int | None = None) -> dict[tuple[str, str], list[LibraryItem]]:
    """Items with no catalogue link, grouped by (normalised title, type)."""
    items = db.session.scalars(
        select(LibraryItem).where(LibraryItem.media_id.is_(None)).order_by(LibraryItem.id)
    )
    groups: dict[tuple[str, str], list[LibraryItem]] = defaultdict(list)
    for item in items:
        key = (catalog.normalise(item.title), item.media_type)
        if key in groups or limit is None or len(groups) < limit:
            groups[key].append(item)
    return groups


def run(
    *,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Progress = lambda _n: None,
    sleep: Callable[[float], Any] = time.sleep,
) -> BackfillReport:
    ids = media_needing_data(limit)
    groups = title_only_items(limit)
    report = BackfillReport(planned_media=len(ids), planned_titles=len(groups))
    if dry_run:
        return report
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        records = _with_patience(lambda b=batch: remote().anilist.media_by_ids(b), report, sleep)
        if records is None:
            report.unresolved.extend(f"AniList id {i}: AniList unreachable" for i in batch)
        else:
            catalog.upsert_records(records)
            db.session.commit()
            returned = {r["anilist_id"] for r in records}
            report.fetched += len(returned)
            report.unresolved.extend(
                f"AniList id {i}: AniList has no such title" for i in batch if i not in returned
            )
        progress(len(batch))
    for (title, media_type), items in groups.items():
        _link_by_title(title, media_type, items, report, sleep)
        progress(1)
    return report


def _with_patience(call: Callable[[], Any], report: BackfillReport, sleep) -> Any | None:
    """Run a background request, waiting out rate limits; None when AniList is down."""
    for _ in range(MAX_WAITS):
        report.requests += 1
        try:
            return call()
        except RateLimited as error:
            sleep(error.retry_after)
        except ClientError:
            return None
    return None


def _link_by_title(
    title: str, media_type: str, items: list[LibraryItem], report: BackfillReport, sleep
) -> None:
    found = _with_patience(
        lambda: remote().anilist.search_media(title, media_type, per_page=10),
        report,
        sleep,
    )
    if found is None:
        report.unresolved.append(f"{items[0].title!r}: AniList unreachable")
        return
    matches = [r for r in found if _is_confident(title, r)]
    if len(matches) != 1:
        reason = "no confident match" if not matches else f"{len(matches)} titles match"
        report.unresolved.append(f"{items[0].title!r} ({media_type}): {reason}")
        return
    (media,) = catalog.upsert_records(matches)
    for item in items:
        owned = db.session.scalar(
            select(LibraryItem.id).where(
                LibraryItem.user_id == item.user_id, LibraryItem.media_id == media.id
            )
        )
        if owned is not None:
            report.unresolved.append(f"{item.title!r}: already in that library as item {owned}")
            continue
        item.media = media
        record_event(item, "updated", {"anilist_id": [None, media.anilist_id]}, Origin.ANILIST)
        report.linked += 1
    db.session.commit()


def _is_confident(title: str, record: MediaRecord) -> bool:
    names = [*record["titles"].values(), *record.get("synonyms", [])]
    return any(name and catalog.normalise(name) == title for name in names)
