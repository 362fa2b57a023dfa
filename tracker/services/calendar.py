"""The airing calendar: which episodes of a person's current, repeating and planning
titles air when, read in that person's time zone, and the secret of their private
.ics feed.

Times are kept and compared in UTC; a day is a day of the person's zone, so a window
"from Monday to Sunday" starts at local midnight on Monday and ends at local midnight
after Sunday, whatever the UTC offset does in between (a DST change makes a day 23 or
25 hours long). AniList's schedule (``airing_episodes``) is what the calendar reads; a
title with no schedule rows at all shows its ``next_airing_episode`` from the
catalogue instead.

The feed's secret is shown once, when it is made; ``users.calendar_token_hash`` keeps
only its SHA-256 (256 random bits: a fast hash is enough, nothing can be guessed).
Making a new one replaces the old, which stops working at once.
"""

from __future__ import annotations

import re
import secrets
from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, literal, select, union_all, update

from tracker import preferences
from tracker.extensions import db
from tracker.models import AiringEpisode, LibraryItem, Media, Status, User, utcnow
from tracker.services.catalog import title_in
from tracker.services.errors import NotFound, invalid
from tracker.services.tokens import hash_of

# The titles whose episodes a person wants to see coming.
FOLLOWED = (Status.CURRENT.value, Status.REPEATING.value, Status.PLANNING.value)
# The longest window the API answers (a month view is at most 31 days).
MAX_WINDOW_DAYS = 62
WEEK_DAYS = 7
# What the feed holds: the recent past (so "what did I miss" still shows) and what is
# announced for the next three months.
FEED_PAST = timedelta(days=7)
FEED_AHEAD = timedelta(days=90)
# An event's length when the catalogue does not know the episode's; an unlikely length
# from upstream is kept inside these bounds.
DEFAULT_EPISODE_MINUTES = 24
LONGEST_EPISODE_MINUTES = 12 * 60

FEED_PREFIX = "cal_"
FEED_PATTERN = re.compile(rf"{FEED_PREFIX}[A-Za-z0-9_-]{{43}}")


@dataclass(frozen=True)
class Airing:
    """One episode of one of the person's titles, and when it airs (UTC)."""

    item_id: int
    media_id: int
    episode: int
    airing_at: datetime
    title: str
    media_type: str
    status: str
    progress: int
    total: int | None
    cover_url: str | None
    # Minutes, as the catalogue knows them (None: unknown).
    duration: int | None
    # False: from AniList's schedule; True: the catalogue's "next episode" only.
    estimated: bool

    @property
    def minutes(self) -> int:
        if not self.duration or self.duration < 1:
            return DEFAULT_EPISODE_MINUTES
        return min(self.duration, LONGEST_EPISODE_MINUTES)

    @property
    def ends_at(self) -> datetime:
        return self.airing_at + timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC, and the local days it covers in ``zone``."""

    start: datetime
    end: datetime
    zone: str
    first_day: date
    last_day: date  # inclusive

    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(max(count, 0))]


@dataclass(frozen=True)
class Day:
    day: date
    episodes: list[Airing]


@dataclass(frozen=True)
class Calendar:
    window: Window
    days: list[Day]

    @property
    def episodes(self) -> list[Airing]:
        return [episode for day in self.days for episode in day.episodes]


# --- windows in the person's zone ------------------------------------------------------


def local_midnight(day: date, zone: str) -> datetime:
    """The first instant of ``day`` in ``zone``, in UTC. Where midnight does not exist
    (a DST change at 00:00) that is the first wall-clock time that does: the default
    fold reads a skipped time with the offset before the change."""
    return datetime.combine(day, time(0), tzinfo=preferences.zone(zone)).astimezone(UTC)


def days_window(first_day: date, last_day: date, zone: str) -> Window:
    """Local midnight of ``first_day`` to local midnight after ``last_day``."""
    try:
        start = local_midnight(first_day, zone)
        end = local_midnight(last_day + timedelta(days=1), zone)
    except (OverflowError, ValueError):
        raise invalid("from", "Choose dates between the years 1 and 9999.") from None
    return Window(start, end, zone, first_day, last_day)


def today_in(zone: str, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(preferences.zone(zone)).date()


def week_window(zone: str, now: datetime | None = None) -> Window:
    """Today and the six days after it, in ``zone``."""
    today = today_in(zone, now)
    return days_window(today, today + timedelta(days=WEEK_DAYS - 1), zone)


def month_window(year: int, month: int, zone: str) -> Window:
    return days_window(date(year, month, 1), date(year, month, monthrange(year, month)[1]), zone)


def window_between(
    start: date | datetime | None,
    end: date | datetime | None,
    zone: str,
    now: datetime | None = None,
) -> Window:
    """The API's ``from``/``to``: a date is a whole local day (``to`` included), a
    datetime an instant (a naive one read in ``zone``; ``to`` excluded). Without
    ``from``, today; without ``to``, a week from ``from``. ``to`` before ``from``, or a
    window longer than MAX_WINDOW_DAYS, is refused (422)."""
    here = preferences.zone(zone)
    if start is None:
        start = today_in(zone, now)
    try:
        if end is None:
            week = WEEK_DAYS if isinstance(start, datetime) else WEEK_DAYS - 1
            end = start + timedelta(days=week)
        begin, named_end = _instant(start, here), _instant(end, here)
        finish = _instant(end + timedelta(days=1), here) if _is_day(end) else named_end
    except (OverflowError, ValueError):
        raise invalid("to", "Choose dates between the years 1 and 9999.") from None
    if named_end < begin:
        raise invalid("to", "`to` must not be before `from`.")
    # A day may be 25 hours long (DST): the limit counts days, give or take that hour.
    if finish - begin > timedelta(days=MAX_WINDOW_DAYS, hours=1):
        raise invalid("to", f"Ask for at most {MAX_WINDOW_DAYS} days at a time.")
    first = begin.astimezone(here).date()
    last = max(first, (finish - timedelta(microseconds=1)).astimezone(here).date())
    return Window(begin, finish, zone, first, last)


def _is_day(value: date | datetime) -> bool:
    return not isinstance(value, datetime)


def _instant(value: date | datetime, here) -> datetime:
    if _is_day(value):
        return datetime.combine(value, time(0), tzinfo=here).astimezone(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=here)
    return value.astimezone(UTC)


# --- what airs -------------------------------------------------------------------------


def calendar(user_id: int, window: Window, title_language: str) -> Calendar:
    """The person's episodes in ``window``, grouped by local day (every day of the
    window, empty ones too), in one statement."""
    episodes = episodes_between(user_id, window.start, window.end, title_language)
    return Calendar(window, group_by_day(episodes, window))


def group_by_day(episodes: Iterable[Airing], window: Window) -> list[Day]:
    here = preferences.zone(window.zone)
    by_day: dict[date, list[Airing]] = {day: [] for day in window.days()}
    for episode in episodes:
        day = episode.airing_at.astimezone(here).date()
        if day in by_day:
            by_day[day].append(episode)
    return [Day(day, listed) for day, listed in by_day.items()]


def episodes_between(
    user_id: int, start: datetime, end: datetime, title_language: str
) -> list[Airing]:
    """Episodes airing in [start, end) of the user's followed titles, soonest first."""
    rows = db.session.execute(_airing_statement(user_id, start, end)).all()
    return [_airing(row, title_language) for row in rows]


def _airing_statement(user_id: int, start: datetime, end: datetime):
    """AniList's schedule, and the catalogue's next episode for titles without one: one
    UNION ALL, so the cost does not grow with the library."""

    def followed(episode, airing_at, estimated: bool):
        return (
            select(
                LibraryItem.id.label("item_id"),
                Media.id.label("media_id"),
                episode.label("episode"),
                airing_at.label("airing_at"),
                literal(estimated).label("estimated"),
                LibraryItem.title.label("item_title"),
                LibraryItem.media_type,
                LibraryItem.status,
                LibraryItem.progress,
                LibraryItem.max_progress_override,
                LibraryItem.cover_url.label("item_cover"),
                Media.cover_url.label("media_cover"),
                Media.title_romaji,
                Media.title_english,
                Media.title_native,
                Media.title_preferred,
                Media.episodes,
                Media.duration,
            )
            .join(Media, Media.id == LibraryItem.media_id)
            .where(LibraryItem.user_id == user_id, LibraryItem.status.in_(FOLLOWED))
        )

    scheduled = (
        followed(AiringEpisode.episode, AiringEpisode.airing_at, False)
        .join(AiringEpisode, AiringEpisode.media_id == Media.id)
        .where(AiringEpisode.airing_at >= start, AiringEpisode.airing_at < end)
    )
    announced = followed(Media.next_airing_episode, Media.next_airing_at, True).where(
        and_(Media.next_airing_at >= start, Media.next_airing_at < end),
        Media.next_airing_episode.is_not(None),
        ~exists().where(AiringEpisode.media_id == Media.id),
    )
    both = union_all(scheduled, announced).subquery()
    return select(both).order_by(both.c.airing_at, both.c.item_id, both.c.episode)


def _airing(row: Any, title_language: str) -> Airing:
    catalogue = {row.title_romaji, row.title_english, row.title_native, row.title_preferred}
    # A title the person typed stays as typed; the catalogue's reads in their language.
    title = title_in(row, title_language) if row.item_title in catalogue else row.item_title
    total = row.max_progress_override if row.max_progress_override is not None else row.episodes
    return Airing(
        item_id=row.item_id,
        media_id=row.media_id,
        episode=row.episode,
        airing_at=_utc(row.airing_at),
        title=title,
        media_type=row.media_type,
        status=row.status,
        progress=row.progress,
        total=total,
        cover_url=row.item_cover or row.media_cover,
        duration=row.duration,
        estimated=bool(row.estimated),
    )


def _utc(moment: datetime | str) -> datetime:
    # A UNION's column comes back typed on PostgreSQL; SQLite may hand back its text.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- the private feed ------------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    """What the .ics answer holds: whose feed, in which language, and the episodes."""

    user_id: int
    episodes: list[Airing]
    generated_at: datetime


def has_feed(user: User) -> bool:
    """Whether the person has a feed (read from the loaded user row: no query)."""
    return user.calendar_token_hash is not None


def new_feed_secret(user_id: int) -> str:
    """A new feed secret for ``user_id``, committed; the old one stops working. The
    plaintext is returned this once."""
    plaintext = FEED_PREFIX + secrets.token_urlsafe(32)
    db.session.execute(
        update(User).where(User.id == user_id).values(calendar_token_hash=hash_of(plaintext))
    )
    db.session.commit()
    return plaintext


def revoke_feed(user_id: int) -> None:
    """Turn the feed off; NotFound when there was none (turned off in another tab)."""
    revoked = db.session.execute(
        update(User)
        .where(User.id == user_id, User.calendar_token_hash.is_not(None))
        .values(calendar_token_hash=None)
        .returning(User.id)
    ).first()
    if revoked is None:
        db.session.rollback()
        raise NotFound("You have no calendar feed (already turned off?).")
    db.session.commit()


def feed(secret: str, now: datetime | None = None) -> Feed | None:
    """The feed a secret opens, or None for a malformed, unknown or revoked one, or one
    whose account is disabled: the caller answers each the same way."""
    if not FEED_PATTERN.fullmatch(secret):
        return None
    owner = db.session.execute(
        select(User.id, User.preferences).where(
            User.calendar_token_hash == hash_of(secret), User.disabled_at.is_(None)
        )
    ).first()
    if owner is None:
        return None
    now = now or utcnow()
    language = preferences.read(owner.preferences).title_language
    episodes = episodes_between(owner.id, now - FEED_PAST, now + FEED_AHEAD, language)
    return Feed(owner.id, episodes, now)
