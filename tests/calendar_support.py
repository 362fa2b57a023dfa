"""Titles, schedules and time zones for the calendar tests, written straight into the
database (the AniList refresh that fills ``airing_episodes`` is tested on its own)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from tracker.extensions import db
from tracker.models import AiringEpisode, LibraryItem, Media, User, utcnow

_external_ids = itertools.count(500_000)


def user_id_of(app, username: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(User.id).where(User.username == username))
        db.session.remove()
    return found


def set_zone(app, user_id: int, zone: str) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        user.preferences = {**(user.preferences or {}), "timezone": zone}
        db.session.commit()
        db.session.remove()


def follow(app, user_id: int, title: str, *, status: str = "current", schedule=(),
           duration: int | None = None, episodes: int | None = 12, next_airing=None,
           media_id: int | None = None, cover_url: str | None = None,
           ) -> tuple[int, int]:  # fmt: skip
    """A catalogue title in the user's library with ``schedule`` [(episode, UTC time)]
    and, optionally, the catalogue's ``next_airing`` (episode, UTC time); (item, media)."""
    with app.app_context():
        if media_id is None:
            external = next(_external_ids)
            media = Media(source="anilist", external_id=str(external), anilist_id=external,
                          media_type="anime", title_romaji=title, title_preferred=title,
                          search_text=title.lower(), synonyms=[], episodes=episodes,
                          duration=duration, cover_url=cover_url)  # fmt: skip
            if next_airing is not None:
                media.next_airing_episode, media.next_airing_at = next_airing
            db.session.add(media)
            db.session.flush()
            media_id = media.id
        now = utcnow()
        item_id = db.session.execute(
            insert(LibraryItem).returning(LibraryItem.id),
            [{"user_id": user_id, "media_id": media_id, "media_type": "anime", "title": title,
              "status": status, "progress": 2, "repeat": 0, "private": False,
              "created_at": now, "updated_at": now, "custom_lists": []}],
        ).scalar_one()  # fmt: skip
        if schedule:
            db.session.execute(
                insert(AiringEpisode),
                [{"media_id": media_id, "episode": n, "airing_at": at} for n, at in schedule],
            )
        db.session.commit()
        db.session.remove()
    return item_id, media_id


def reschedule(app, media_id: int, episode: int, at: datetime) -> None:
    with app.app_context():
        db.session.execute(
            update(AiringEpisode)
            .where(AiringEpisode.media_id == media_id, AiringEpisode.episode == episode)
            .values(airing_at=at)
        )
        db.session.commit()
        db.session.remove()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
