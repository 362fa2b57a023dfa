"""A person's statistics, aggregated in SQL: a fixed handful of statements whatever the
size of the library (the rows never come into Python, only their sums).

The rules, as the page and the API state them:

- **Episodes watched / chapters read**: progress, plus ``repeat`` times the total where the
  total is known (the item's own max, else the catalogue's episodes or chapters). A title
  being rewatched (``repeating``) also counts its first full watch. Rewatches of a title
  whose total is unknown cannot be counted; how many such titles there are is reported.
- **Time spent** (anime only): episodes watched times the catalogue's minutes per episode.
  Without a known length, a typical one for the format stands in (``MINUTES_BY_FORMAT``,
  ``DEFAULT_MINUTES`` for titles typed by hand): that part is reported as estimated.
- **Scores**: 0 and none both mean "not scored", as on AniList; the distribution is
  binned in the person's score format.
- **Completions per month**: by ``completed_on`` when it names a month. A completed (or
  rewatched) title whose date is missing or only a year falls back on the last time its
  history records the status becoming ``completed``, in the person's time zone.
- **Activity per month**: the history entries (edits, additions, removals) of the last
  twelve months in the person's time zone; sync conflicts are not activity.
- **Formats and genres**: every title in the library; genres come from the catalogue
  (a title typed by hand has none), formats too (it counts as an unknown format).

With a type (``anime`` or ``manga``) every figure is about that type alone; the activity
then counts only the history of titles still in the library (a removed title's type is
gone with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, cast, func, literal, or_, select, true

from tracker import preferences, scores
from tracker.extensions import db
from tracker.models import STATUSES, ItemEvent, LibraryItem, Media, MediaType, Status, utcnow

# Typical minutes per episode by AniList format, for titles whose length is unknown.
MINUTES_BY_FORMAT = {
    "TV": 24,
    "TV_SHORT": 5,
    "MOVIE": 90,
    "SPECIAL": 15,
    "OVA": 25,
    "ONA": 15,
    "MUSIC": 4,
}
DEFAULT_MINUTES = 24
MONTHS = 12
TOP_GENRES = 10
# Statuses whose history can stand in for a missing completion date.
COMPLETED_STATUSES = (Status.COMPLETED.value, Status.REPEATING.value)


@dataclass(frozen=True)
class Named:
    """A format or genre and how many titles have it (``name`` None: unknown format)."""

    name: str | None
    count: int


@dataclass(frozen=True)
class MonthCount:
    month: str  # YYYY-MM, in the person's time zone
    count: int
    from_history: int = 0  # completions: how many of ``count`` the history dated


@dataclass(frozen=True)
class ScoreBin:
    """Scores from ``low`` to ``high`` (0-100, both included), read as ``label`` in the
    person's format (``words`` for a screen reader)."""

    label: str
    words: str
    low: int
    high: int
    count: int


@dataclass(frozen=True)
class ScoreStats:
    format: str
    scored: int
    unscored: int
    mean: float | None  # 0-100
    mean_label: str  # the mean in the person's format: "78.5", "7.9", "3.9 stars", "Liked"
    distribution: list[ScoreBin]


@dataclass(frozen=True)
class TimeSpent:
    minutes: int  # everything, estimated part included
    estimated_minutes: int
    estimated_titles: int  # anime with episodes watched but no known episode length


@dataclass(frozen=True)
class Stats:
    type: str | None
    time_zone: str
    total: int
    by_status: dict[str, int]
    by_type: dict[str, int]
    episodes_watched: int
    chapters_read: int
    repeats_not_counted: int  # titles with rewatches whose total is unknown
    time_spent: TimeSpent
    scores: ScoreStats
    completions: list[MonthCount]  # the last twelve months, oldest first
    activity: list[MonthCount]
    formats: list[Named]
    genres: list[Named]


def for_user(
    user_id: int,
    *,
    media_type: str | None = None,
    score_format: str = scores.DEFAULT_FORMAT,
    time_zone: str = "UTC",
    now: datetime | None = None,
) -> Stats:
    """Everything the statistics page shows, for ``user_id``'s library (of one type when
    ``media_type`` names one); the months end with the current one in ``time_zone``."""
    score_format = scores.format_or_default(score_format)
    months = month_bounds(now or utcnow(), time_zone)
    counts = _counts(user_id, media_type)
    return Stats(
        type=media_type,
        time_zone=time_zone,
        scores=_scores(user_id, media_type, score_format),
        completions=_completions(user_id, media_type, months),
        activity=_activity(user_id, media_type, months),
        formats=_formats(user_id, media_type),
        genres=_genres(user_id, media_type),
        **counts,
    )


# --- months in the person's time zone ----------------------------------------------------


@dataclass(frozen=True)
class Month:
    name: str  # YYYY-MM
    start: datetime  # UTC: the first instant of the month in the person's zone
    end: datetime  # UTC: the first instant of the next month


def month_bounds(now: datetime, time_zone: str) -> list[Month]:
    """The current month in ``time_zone`` and the eleven before it, oldest first, each
    with its UTC bounds (so a month that crosses a DST change is as long as it is)."""
    zone = preferences.zone(time_zone)
    local = now.astimezone(zone)
    index = local.year * 12 + local.month - 1  # months since year 0

    def first_instant(n: int) -> datetime:
        return datetime(n // 12, n % 12 + 1, 1, tzinfo=zone).astimezone(UTC)

    return [
        Month(f"{n // 12:04d}-{n % 12 + 1:02d}", first_instant(n), first_instant(n + 1))
        for n in range(index - MONTHS + 1, index + 1)
    ]


def _month_of(moment: Any, months: list[Month]):
    """SQL: the name of the month ``moment`` falls in (NULL outside the window). Bounds
    are bound as UTC instants, so this is the same on SQLite and PostgreSQL."""
    return case(*[(moment < month.end, month.name) for month in months], else_=None)


# --- the figures -------------------------------------------------------------------------


def _mine(user_id: int, media_type: str | None) -> list[Any]:
    conditions = [LibraryItem.user_id == user_id]
    if media_type is not None:
        conditions.append(LibraryItem.media_type == media_type)
    return conditions


def _with_media(query: Select) -> Select:
    return query.select_from(LibraryItem).outerjoin(Media, LibraryItem.media_id == Media.id)


def _counts(user_id: int, media_type: str | None) -> dict[str, Any]:
    """Counts by status and type, episodes and chapters, and the time spent: one
    statement, one row per (type, status)."""
    anime = LibraryItem.media_type == MediaType.ANIME.value
    catalogue_total = case((anime, Media.episodes), else_=Media.chapters)
    total = func.coalesce(LibraryItem.max_progress_override, catalogue_total)
    known_total = func.coalesce(total, 0) > 0
    # Products in 64 bits: repeat and totals may each be up to 100,000.
    full_watches = LibraryItem.repeat + case(
        (LibraryItem.status == Status.REPEATING.value, 1), else_=0
    )
    units = cast(LibraryItem.progress, BigInteger) + case(
        (known_total, cast(full_watches, BigInteger) * total), else_=0
    )
    known_length = func.coalesce(Media.duration, 0) > 0
    typical = case(MINUTES_BY_FORMAT, value=Media.format, else_=DEFAULT_MINUTES)
    estimated = and_(anime, ~known_length)
    rows = db.session.execute(
        _with_media(
            select(
                LibraryItem.media_type,
                LibraryItem.status,
                func.count(),
                func.sum(units),
                func.sum(case((and_(anime, known_length), units * Media.duration), else_=0)),
                func.sum(case((estimated, units * typical), else_=0)),
                func.sum(case((and_(estimated, units > 0), 1), else_=0)),
                func.sum(case((and_(LibraryItem.repeat > 0, ~known_total), 1), else_=0)),
            )
        )
        .where(*_mine(user_id, media_type))
        .group_by(LibraryItem.media_type, LibraryItem.status)
    )
    by_status = dict.fromkeys(STATUSES, 0)
    by_type = {t.value: 0 for t in MediaType}
    units_by_type = {t.value: 0 for t in MediaType}
    minutes = estimated_minutes = estimated_titles = uncounted = 0
    for kind, status, count, done, known, guessed, guessed_titles, unknown in rows:
        by_status[status] = by_status.get(status, 0) + count
        by_type[kind] = by_type.get(kind, 0) + count
        units_by_type[kind] = units_by_type.get(kind, 0) + int(done or 0)
        minutes += int(known or 0) + int(guessed or 0)
        estimated_minutes += int(guessed or 0)
        estimated_titles += int(guessed_titles or 0)
        uncounted += int(unknown or 0)
    return {
        "total": sum(by_type.values()),
        "by_status": by_status,
        "by_type": by_type,
        "episodes_watched": units_by_type[MediaType.ANIME.value],
        "chapters_read": units_by_type[MediaType.MANGA.value],
        "repeats_not_counted": uncounted,
        "time_spent": TimeSpent(minutes, estimated_minutes, estimated_titles),
    }


def _scores(user_id: int, media_type: str | None, score_format: str) -> ScoreStats:
    """How many titles have each 0-100 score (at most 102 rows: none and 0 too), binned
    in Python."""
    rows = db.session.execute(
        select(LibraryItem.score, func.count())
        .where(*_mine(user_id, media_type))
        .group_by(LibraryItem.score)
    ).all()
    by_score = {int(score): count for score, count in rows if score and score > 0}
    unscored = sum(count for score, count in rows if not score or score <= 0)
    scored = sum(by_score.values())
    mean = sum(s * n for s, n in by_score.items()) / scored if scored else None
    distribution = [
        ScoreBin(label, words, low, high, sum(by_score.get(s, 0) for s in range(low, high + 1)))
        for label, words, low, high in score_bins(score_format)
    ]
    return ScoreStats(
        score_format, scored, unscored, mean, mean_label(mean, score_format), distribution
    )


def score_bins(score_format: str) -> list[tuple[str, str, int, int]]:
    """(label, words, low, high) of each bar of the histogram in ``score_format``: the
    points of the coarse formats as AniList rounds them (9 points is 85 to 94), tens for
    the fine ones."""
    if score_format in (scores.POINT_100, scores.POINT_10_DECIMAL):
        divisor = 1 if score_format == scores.POINT_100 else 10
        bins = []
        for low in range(1, 100, 10):
            high = low + 9
            first, last = _number(low, divisor), _number(high, divisor)
            if divisor == 10:
                first = _number(low - 1, divisor) if low > 1 else "0.1"
            bins.append((f"{first}–{last}", f"{first} to {last}", low, high))
        return bins
    shown: dict[Any, list[int]] = {}
    for score in range(1, 101):
        shown.setdefault(scores.to_format(score, score_format), []).append(score)
    bins = []
    for value, members in shown.items():
        words = scores.spoken(members[0], score_format)
        if score_format == scores.POINT_5:
            label = f"{value}★"
        elif score_format == scores.POINT_3:
            label = words
        else:
            label = str(value)
        bins.append((label, words, members[0], members[-1]))
    return bins


def _number(score: int, divisor: int) -> str:
    return str(score) if divisor == 1 else f"{score / divisor:g}"


def mean_label(mean: float | None, score_format: str) -> str:
    """The mean 0-100 score in the format's units, one decimal; smileys by the nearest."""
    if mean is None:
        return "–"
    if score_format == scores.POINT_100:
        return f"{mean:.1f}"
    if score_format in (scores.POINT_10, scores.POINT_10_DECIMAL):
        return f"{mean / 10:.1f}"
    if score_format == scores.POINT_5:
        return f"{mean / 20:.1f} stars"
    return scores.spoken(round(mean), score_format)


def _completions(user_id: int, media_type: str | None, months: list[Month]) -> list[MonthCount]:
    """Titles completed each month: by their date, else by their history (one statement)."""
    month_of_date = func.substr(LibraryItem.completed_on, 1, 7)
    by_date = select(month_of_date.label("month"), literal("date").label("source")).where(
        *_mine(user_id, media_type),
        func.length(LibraryItem.completed_on) >= 7,
        month_of_date >= months[0].name,
        month_of_date <= months[-1].name,
    )
    became_completed = ItemEvent.changes[("status", 1)].as_string() == Status.COMPLETED.value
    last_completed = (
        select(ItemEvent.item_id, func.max(ItemEvent.at).label("at"))
        .where(
            ItemEvent.user_id == user_id,
            ItemEvent.kind == "updated",
            ItemEvent.at >= months[0].start,
            became_completed,
        )
        .group_by(ItemEvent.item_id)
        .subquery()
    )
    by_history = (
        select(
            _month_of(last_completed.c.at, months).label("month"),
            literal("history").label("source"),
        )
        .select_from(last_completed)
        .join(LibraryItem, LibraryItem.id == last_completed.c.item_id)
        .where(
            *_mine(user_id, media_type),
            LibraryItem.status.in_(COMPLETED_STATUSES),
            or_(LibraryItem.completed_on.is_(None), func.length(LibraryItem.completed_on) < 7),
        )
    )
    both = by_date.union_all(by_history).subquery()
    rows = db.session.execute(
        select(both.c.month, both.c.source, func.count())
        .where(both.c.month.is_not(None))
        .group_by(both.c.month, both.c.source)
    )
    counts: dict[str, list[int]] = {month.name: [0, 0] for month in months}
    for month, source, count in rows:
        counts[month][0] += count
        if source == "history":
            counts[month][1] += count
    return [MonthCount(name, total, dated) for name, (total, dated) in counts.items()]


def _activity(user_id: int, media_type: str | None, months: list[Month]) -> list[MonthCount]:
    """History entries per month (one statement)."""
    events = select(_month_of(ItemEvent.at, months).label("month")).where(
        ItemEvent.user_id == user_id,
        ItemEvent.kind != "conflict",
        ItemEvent.at >= months[0].start,
        ItemEvent.at < months[-1].end,
    )
    if media_type is not None:
        events = events.join(LibraryItem, LibraryItem.id == ItemEvent.item_id).where(
            LibraryItem.media_type == media_type
        )
    inner = events.subquery()
    counts = dict(
        db.session.execute(select(inner.c.month, func.count()).group_by(inner.c.month)).all()
    )
    return [MonthCount(month.name, counts.get(month.name, 0)) for month in months]


def _formats(user_id: int, media_type: str | None) -> list[Named]:
    """Titles per format, most first (AniList has a dozen formats; None is unknown)."""
    rows = db.session.execute(
        _with_media(select(Media.format, func.count()))
        .where(*_mine(user_id, media_type))
        .group_by(Media.format)
    )
    named = [Named(name, count) for name, count in rows]
    return sorted(named, key=lambda n: (-n.count, n.name is None, n.name or ""))


def _genres(user_id: int, media_type: str | None) -> list[Named]:
    """The ``TOP_GENRES`` genres with most titles. ``media.genres`` is a JSON list:
    unnested by ``json_each`` on SQLite and ``json_array_elements_text`` on PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        genres = case(
            (func.json_typeof(Media.genres) == "array", Media.genres), else_=func.json_build_array()
        )
        elements = func.json_array_elements_text(genres).table_valued("value").lateral()
        is_name = true()
    else:
        elements = func.json_each(Media.genres).table_valued("value", "type")
        is_name = elements.c.type == "text"
    genre = elements.c.value
    rows = db.session.execute(
        select(genre, func.count())
        .select_from(LibraryItem)
        .join(Media, LibraryItem.media_id == Media.id)
        .join(elements, true())
        .where(*_mine(user_id, media_type), is_name)
        .group_by(genre)
        .order_by(func.count().desc(), genre)
        .limit(TOP_GENRES)
    )
    return [Named(name, count) for name, count in rows]
