"""What one search suggestion shows, whatever the catalogue call that found it.

The fragment reads ``s.title``, ``s.type`` … which Jinja resolves on this dataclass and
on the suggestion dicts of the JSON API alike, so the view can switch from
``catalog.search_local`` to a remote-aware call without touching the template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import LibraryItem, Media

LIMIT = 8


@dataclass(frozen=True)
class Suggestion:
    title: str
    type: str
    source: str
    cover_url: str | None = None
    total: int | None = None
    format: str | None = None
    year: int | None = None
    anilist_id: int | None = None
    mangadex_id: str | None = None
    in_library: bool = False

    @classmethod
    def from_media(cls, media: Media, *, in_library: bool) -> Suggestion:
        anilist_id = media.anilist_id
        if anilist_id is None and media.source == "anilist" and media.external_id.isdigit():
            anilist_id = int(media.external_id)
        return cls(
            title=media.title_preferred,
            type=media.media_type,
            source=media.source,
            cover_url=media.cover_url,
            total=media.total,
            format=media.format,
            year=media.year,
            anilist_id=anilist_id,
            mangadex_id=media.external_id if media.source == "mangadex" else None,
            in_library=in_library,
        )


def from_catalogue(user_id: int, found: Sequence[Media]) -> list[Suggestion]:
    """Suggestions for catalogue entries, marking those already in the user's library."""
    ids = [media.id for media in found]
    if not ids:
        return []
    owned = set(
        db.session.scalars(
            select(LibraryItem.media_id).where(
                LibraryItem.user_id == user_id, LibraryItem.media_id.in_(ids)
            )
        )
    )
    return [Suggestion.from_media(media, in_library=media.id in owned) for media in found]
