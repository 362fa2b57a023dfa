"""The local catalogue (``media``), shared by every user."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Media


def search_text_for(titles: Iterable[str | None]) -> str:
    """What local search matches: every known title, lower-cased, one per line."""
    seen: dict[str, None] = {}
    for title in titles:
        if title and title.strip():
            seen.setdefault(title.strip().lower(), None)
    return "\n".join(seen)


def find_media(source: str, external_id: str) -> Media | None:
    return db.session.scalar(
        select(Media).where(Media.source == source, Media.external_id == str(external_id))
    )


def get_or_create_media(
    source: str,
    external_id: str,
    *,
    media_type: str,
    title: str,
    cover_url: str | None = None,
    anilist_id: int | None = None,
    mal_id: int | None = None,
) -> Media:
    """The catalogue entry for a remote id, created as a stub if this is its first sight.

    A stub has no ``fetched_at``; backfill fills in its totals and metadata later.
    """
    media = find_media(source, external_id)
    if media is None:
        media = Media(
            source=source,
            external_id=str(external_id),
            anilist_id=anilist_id,
            mal_id=mal_id,
            media_type=media_type,
            title_preferred=title,
            synonyms=[],
            search_text=search_text_for([title]),
            cover_url=cover_url,
        )
        db.session.add(media)
        db.session.flush()
    return media


def search_local(query: str, media_type: str | None = None, limit: int = 10) -> list[Media]:
    """Catalogue entries whose titles contain ``query``; prefix matches first."""
    needle = query.strip().lower()
    if not needle:
        return []
    statement = select(Media).where(Media.search_text.contains(needle, autoescape=True))
    if media_type:
        statement = statement.where(Media.media_type == media_type)
    starts = Media.search_text.startswith(needle, autoescape=True)
    statement = statement.order_by(starts.desc(), Media.title_preferred).limit(limit)
    return list(db.session.scalars(statement))
