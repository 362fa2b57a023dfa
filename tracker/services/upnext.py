"""Up next: what a person can watch or read now, and what they are waiting for.

Their in-progress titles (current, repeating) with something out beyond their
progress come first, the newest unwatched release first and then the titles left
alone longest; the rest wait ("caught up, next episode in 3 days"). What is out:

- an anime with airing data: the episodes aired by now (the schedule's aired
  episodes, else the one before AniList's next airing episode); all of them once
  it is finished;
- a title with a known total and no airing data (a finished show, a manga with a
  chapter count, a title typed by hand with a max): up to the total;
- anything else (a manga still publishing with no count): not known, so waiting.

Everything comes from three statements whatever the library's size: the person's
in-progress items with their airing summary (the facts that place them), the titles
and covers of the cards shown, and the library's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, case, func, select

from tracker.extensions import db
from tracker.models import AiringEpisode, LibraryItem, Media, MediaType, Origin, Status, utcnow
from tracker.services import airing, library
from tracker.services.errors import NotFound

IN_PROGRESS = (Status.CURRENT.value, Status.REPEATING.value)
# Airing data older than this is said to be old on the page ("airing times as of …").
OLD_AIRING_DATA = timedelta(hours=12)
# Cards shown at most per section: a library of thousands still gives a short page.
SHOWN = 50


@dataclass(frozen=True)
class Entry:
    """One in-progress title as up next shows it."""

    item_id: int
    title: str
    media_type: str
    status: str
    progress: int
    total: int | None
    cover_url: str | None
    format: str | None
    released: int | None  # episodes or chapters out now (None: not known)
    latest_release_at: datetime | None  # when the newest of them came out, if known
    next_episode: int | None  # the next one to come out, when AniList says
    next_airing_at: datetime | None
    airing_refreshed_at: datetime | None = None
    may_air: bool = False  # an anime still releasing (or not yet, or on hiatus)

    @property
    def available(self) -> int:
        """Released beyond progress."""
        return max(0, (self.released or 0) - self.progress)

    @property
    def unit(self) -> str:
        return library.unit_for(self.media_type)

    @property
    def caught_up_for_good(self) -> bool:
        """Everything is out and seen, with nothing more to come (a +1 would complete)."""
        return self.total is not None and self.progress >= self.total


@dataclass
class UpNext:
    ready: list[Entry] = field(default_factory=list)
    waiting: list[Entry] = field(default_factory=list)
    library_size: int = 0
    in_progress: int = 0
    # The oldest airing refresh among the titles shown that may still air (None: never).
    airing_as_of: datetime | None = None
    airing_data_old: bool = False
    more_ready: int = 0  # beyond the SHOWN cards
    more_waiting: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "waiting": self.waiting,
            "more_ready": self.more_ready,
            "more_waiting": self.more_waiting,
            "library_size": self.library_size,
            "in_progress": self.in_progress,
            "airing_as_of": self.airing_as_of,
            "airing_data_old": self.airing_data_old,
        }


def up_next(
    user_id: int,
    *,
    language: str | None = None,
    now: datetime | None = None,
    limit: int | None = SHOWN,
) -> UpNext:
    """The person's up next, ready titles in order, then the waiting ones. Every
    in-progress row is weighed; only the cards shown are built."""
    now = now or utcnow()
    facts = [_facts(row, now) for row in db.session.execute(_statement(now, user_id))]
    size = db.session.scalar(
        select(func.count()).select_from(LibraryItem).where(LibraryItem.user_id == user_id)
    )
    return _arrange(user_id, facts, size or 0, now, limit, language)


def entry_for(
    user_id: int, item_id: int, *, language: str | None = None, now: datetime | None = None
) -> Entry | None:
    """One item as up next shows it (after a +1), or None when it is no longer in
    progress (completed, say); NotFound when it is not the person's."""
    now = now or utcnow()
    row = db.session.execute(_statement(now, user_id, item_id)).one_or_none()
    if row is None:
        if db.session.scalar(select(LibraryItem.id).where(
                LibraryItem.id == item_id, LibraryItem.user_id == user_id)) is None:  # fmt: skip
            raise NotFound("No such item in your library.")
        return None
    return _entry(_facts(row, now), _details(user_id, [item_id])[item_id], language)


@dataclass(frozen=True)
class Watched:
    """A +1 from up next: what it changed, and the card as it is now (None: the title
    left up next, completed at its last episode)."""

    change: library.Change
    entry: Entry | None


def watch_one(
    user_id: int, item_id: int, *, linked: bool | None = None, language: str | None = None
) -> Watched:
    """One more episode or chapter through the library's +1 (its rules, its history,
    its push), then the card again."""
    change = library.increment_progress(user_id, item_id, 1, Origin.WEB, linked=linked)
    return Watched(change, entry_for(user_id, item_id, language=language))


def set_back(
    user_id: int, item_id: int, changes: dict[str, Any], *, language: str | None = None
) -> Watched:
    """The toast's Undo of a +1 that completed: the fields go back as an ordinary edit."""
    change = library.update_item(user_id, item_id, changes, Origin.WEB)
    return Watched(change, entry_for(user_id, item_id, language=language))


def _details(user_id: int, item_ids: list[int]) -> dict[int, Any]:
    """What the cards shown say beyond the facts that placed them (titles, cover)."""
    if not item_ids:
        return {}
    rows = db.session.execute(
        select(
            LibraryItem.id,
            LibraryItem.title,
            LibraryItem.cover_url,
            Media.id.label("media_id"),
            Media.title_romaji,
            Media.title_english,
            Media.title_native,
            Media.title_preferred,
            Media.cover_url.label("media_cover_url"),
            Media.format,
        )
        .outerjoin(Media, Media.id == LibraryItem.media_id)
        .where(LibraryItem.user_id == user_id, LibraryItem.id.in_(item_ids))
    )
    return {row.id: row for row in rows}


def _statement(now: datetime, user_id: int, item_id: int | None = None):
    wanted = [LibraryItem.user_id == user_id, LibraryItem.status.in_(IN_PROGRESS)]
    if item_id is not None:
        wanted.append(LibraryItem.id == item_id)
    kept = select(LibraryItem.media_id).where(*wanted)
    future = AiringEpisode.airing_at > now
    schedule = (
        select(
            AiringEpisode.media_id,
            func.min(case((future, AiringEpisode.episode))).label("next_episode"),
            func.min(case((future, AiringEpisode.airing_at))).label("next_at"),
            func.max(case((~future, AiringEpisode.episode))).label("aired_episode"),
            func.max(case((~future, AiringEpisode.airing_at))).label("aired_at"),
        )
        .where(AiringEpisode.media_id.in_(kept))
        .group_by(AiringEpisode.media_id)
        .subquery()
    )
    return (
        select(
            LibraryItem.id,
            LibraryItem.media_type,
            LibraryItem.status,
            LibraryItem.progress,
            LibraryItem.max_progress_override,
            Media.id.label("media_id"),
            Media.episodes,
            Media.chapters,
            Media.status.label("media_status"),
            Media.next_airing_episode,
            Media.next_airing_at,
            Media.airing_refreshed_at,
            schedule.c.next_episode,
            schedule.c.next_at,
            schedule.c.aired_episode,
            schedule.c.aired_at,
        )
        .select_from(LibraryItem)
        .outerjoin(Media, Media.id == LibraryItem.media_id)
        .outerjoin(schedule, and_(schedule.c.media_id == LibraryItem.media_id))
        .where(*wanted)
        # The least recently touched first: the order ties keep (the sorts are stable).
        .order_by(LibraryItem.updated_at, LibraryItem.id)
    )


class _Facts(NamedTuple):
    """One row weighed: enough to place it, before any card is built."""

    row: Any
    total: int | None
    released: int | None
    released_at: datetime | None
    next_episode: int | None
    next_at: datetime | None

    @property
    def available(self) -> int:
        return (self.released or 0) - self.row.progress


def _facts(row: Any, now: datetime) -> _Facts:
    if row.max_progress_override is not None:
        total = row.max_progress_override
    elif row.media_id is None:
        total = None
    else:
        total = row.episodes if row.media_type == MediaType.ANIME else row.chapters
    return _Facts(row, total, *_released(row, total, now))


def _entry(facts: _Facts, details: Any, language: str | None) -> Entry:
    row = facts.row
    return Entry(
        item_id=row.id,
        title=_title(details, language),
        media_type=row.media_type,
        status=row.status,
        progress=row.progress,
        total=facts.total,
        cover_url=details.cover_url or details.media_cover_url,
        format=details.format,
        released=facts.released,
        latest_release_at=facts.released_at,
        next_episode=facts.next_episode,
        next_airing_at=facts.next_at,
        airing_refreshed_at=_aware(row.airing_refreshed_at),
        may_air=_may_air(row),
    )


def _may_air(row: Any) -> bool:
    return row.media_type == MediaType.ANIME and row.media_status in airing.MAY_AIR


def _released(
    row: Any, total: int | None, now: datetime
) -> tuple[int | None, datetime | None, int | None, datetime | None]:
    """(out now, when the newest came out, next to come, when) for one row."""
    if row.media_status == "not_yet_released":
        return 0, None, row.next_episode or row.next_airing_episode, _aware(
            row.next_at or row.next_airing_at)  # fmt: skip
    finished = row.media_status in ("finished", "cancelled")
    next_episode, next_at = row.next_episode, _aware(row.next_at)
    media_next_at = _aware(row.next_airing_at)
    if next_episode is None and row.next_airing_episode and media_next_at and media_next_at > now:
        next_episode, next_at = row.next_airing_episode, media_next_at  # no schedule rows
    aired = [row.aired_episode or 0]
    if next_episode:
        aired.append(next_episode - 1)
    if row.next_airing_episode and media_next_at:
        # AniList's next episode has aired since the last refresh, or is still to come.
        aired.append(row.next_airing_episode - (media_next_at > now))
    released = max(aired)
    released_at = _aware(row.aired_at)
    if media_next_at and media_next_at <= now and row.next_airing_episode == released:
        released_at = max(released_at or media_next_at, media_next_at)
    if finished and total is not None:
        released = max(released, total)
        next_episode = next_at = None
    if not released and not next_episode:  # no airing data at all: the total, if known
        released = total
    if total is not None and released is not None:
        released = min(released, total)
    return released, released_at if released else None, next_episode, next_at


def _arrange(
    user_id: int,
    facts: list[_Facts],
    size: int,
    now: datetime,
    limit: int | None,
    language: str | None,
) -> UpNext:
    ready = [f for f in facts if f.available > 0]
    waiting = [f for f in facts if f.available <= 0]
    # Newest unwatched release first (those with no date after), then least recently touched.
    ready.sort(key=lambda f: (f.released_at is None,
                              -(f.released_at.timestamp() if f.released_at else 0)))  # fmt: skip
    # Soonest next episode first; titles with no date after, least recently touched first.
    far = datetime.max.replace(tzinfo=UTC)
    waiting.sort(key=lambda f: f.next_at or far)
    refreshed = [_aware(f.row.airing_refreshed_at) for f in facts if _may_air(f.row)]
    as_of = None if not refreshed or None in refreshed else min(refreshed)  # type: ignore[type-var]
    shown = limit if limit is not None else len(facts)
    ready, waiting, more_ready, more_waiting = (
        ready[:shown], waiting[:shown], len(ready) - shown, len(waiting) - shown)  # fmt: skip
    details = _details(user_id, [f.row.id for f in ready + waiting])
    return UpNext(
        ready=[_entry(f, details[f.row.id], language) for f in ready],
        waiting=[_entry(f, details[f.row.id], language) for f in waiting],
        library_size=size,
        in_progress=len(facts),
        airing_as_of=as_of,
        airing_data_old=bool(refreshed) and (as_of is None or now - as_of > OLD_AIRING_DATA),
        more_ready=max(0, more_ready),
        more_waiting=max(0, more_waiting),
    )


def _title(row: Any, language: str | None) -> str:
    """The title in the person's language when it is the catalogue's (as the library
    shows it); a title typed by hand stays as typed."""
    catalogue = {row.title_romaji, row.title_english, row.title_native, row.title_preferred}
    if row.media_id is None or row.title not in catalogue:
        return row.title
    by_language = {"romaji": row.title_romaji, "english": row.title_english,
                   "native": row.title_native}  # fmt: skip
    return by_language.get(language or "romaji") or row.title_preferred or row.title


def _aware(moment: datetime | str | None) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):  # an aggregate over a column SQLite keeps as text
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
