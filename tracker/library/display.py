"""How library values read on the page: status names, units, formats, sort choices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app

from tracker import preferences, scores
from tracker.models import MEDIA_TYPES, STATUSES, LibraryItem, MediaType
from tracker.preferences import LIST_SORTS, local_time
from tracker.services.catalog import title_in
from tracker.services.history import ConflictView
from tracker.services.library import Change, unit_for

# "current" and "repeating" read differently for anime and manga (DESIGN §3).
_STATUS_WORDS: dict[str, tuple[str, str]] = {
    "current": ("Watching", "Reading"),
    "repeating": ("Rewatching", "Rereading"),
    "planning": ("Planning", "Planning"),
    "completed": ("Completed", "Completed"),
    "paused": ("Paused", "Paused"),
    "dropped": ("Dropped", "Dropped"),
}
# The order people scan a status list in; AniList's own order.
STATUS_ORDER = ("current", "repeating", "planning", "completed", "paused", "dropped")
assert set(STATUS_ORDER) == set(STATUSES)

SORT_CHOICES = (
    ("-updated", "Recently updated"),
    ("updated", "Least recently updated"),
    ("title", "Title A–Z"),
    ("-title", "Title Z–A"),
    ("-score", "Highest score"),
    ("score", "Lowest score"),
    ("-progress", "Most progress"),
    ("progress", "Least progress"),
    ("-created", "Recently added"),
    ("created", "First added"),
)
assert {value for value, _label in SORT_CHOICES} == set(LIST_SORTS)
_UPPER_FORMATS = {"TV", "OVA", "ONA"}
SOURCE_NAMES = {"anilist": "AniList", "mangadex": "MangaDex", "manual": "Added by hand"}


def status_label(status: str, media_type: str | None = None) -> str:
    """``Watching`` for anime, ``Reading`` for manga, both when the type is unknown."""
    anime, manga = _STATUS_WORDS.get(status, (status, status))
    if media_type == MediaType.ANIME:
        return anime
    if media_type == MediaType.MANGA:
        return manga
    return anime if anime == manga else f"{anime} / {manga}"


# (status, label) in that order, for each type (None: both words), as a status menu lists them.
STATUS_OPTIONS = {
    media_type: tuple((status, status_label(status, media_type)) for status in STATUS_ORDER)
    for media_type in (*MEDIA_TYPES, None)
}


def type_label(media_type: str | None) -> str:
    return (media_type or "").capitalize()


def format_label(value: str | None) -> str:
    """AniList's ``TV_SHORT`` reads as ``TV Short``, ``ONE_SHOT`` as ``One Shot``."""
    if not value:
        return ""
    return " ".join(w if w in _UPPER_FORMATS else w.capitalize() for w in value.split("_"))


def field_label(name: str) -> str:
    return {
        "max_progress": "Max",
        "progress_volumes": "Volumes read",
        "repeat": "Rewatches / rereads",
        "started_on": "Started",
        "completed_on": "Completed",
        "cover_url": "Cover",
    }.get(name, name.replace("_", " ").capitalize())


def shown(value: Any) -> str:
    """A value in the history: an en dash for nothing."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def shown_value(field: str, value: Any, media_type: str | None = None) -> str:
    """A field's value in the history: statuses by name, scores in the person's format,
    the rest as ``shown``."""
    if field == "status" and isinstance(value, str):
        return status_label(value, media_type)
    if field == "score" and isinstance(value, int) and not isinstance(value, bool):
        return score_label(value)
    return shown(value)


def change_message(change: Change, title: str, *, still: bool = False) -> str:
    """What a toast says a change did: "Frieren: episode 28 of 28, now Completed";
    ``still``: a paused or dropped title reached its end and keeps its status."""
    item, parts = change.item, []
    if "progress" in change.changes:
        total = f" of {item.max_progress}" if item.max_progress is not None else ""
        parts.append(f"{unit_for(item.media_type)} {item.progress}{total}")
    if "status" in change.changes:
        parts.append(f"now {status_label(item.status, item.media_type)}")
    if still:
        parts.append(f"still {status_label(item.status, item.media_type)}")
    return f"{title}: {', '.join(parts)}" if parts else f"Saved {title}"


def item_title(item: LibraryItem) -> str:
    """The title in the person's language when it is the catalogue's; a title the person
    typed (or a manual item's) stays as typed. The catalogue entry is loaded with the item."""
    media = item.media
    if media is None:
        return item.title
    catalogue = {media.title_romaji, media.title_english, media.title_native, media.title_preferred}
    if item.title not in catalogue:
        return item.title
    return title_in(media, preferences.current().title_language)


def time_span(since: datetime, until: datetime) -> str:
    """When a run of changes happened, in the person's zone: ``today 20:05`` to
    ``20:40 Europe/Paris`` (an en dash between), the date instead of "today" on another
    day, and both times in full across days."""
    name = preferences.current().timezone
    here = preferences.zone(name)
    start, end = (_aware(moment).astimezone(here) for moment in (since, until))
    if start.date() != end.date():
        return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} {name}"
    day = "today" if end.date() == datetime.now(here).date() else f"{end:%Y-%m-%d}"
    return f"{day} {start:%H:%M}–{end:%H:%M} {name}"


def aired(media: Any) -> str:
    """When a title came out, as a row says it: ``Fall 2023``, or the year alone."""
    if media is None or not media.year:
        return ""
    season = (media.season or "").capitalize()
    return f"{season} {media.year}" if season else str(media.year)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- scores in the person's format (tracker/scores.py) ---------------------------------


def score_format() -> str:
    return preferences.current().score_format


def score_label(score: int | None) -> str:
    return scores.label(score, score_format())


def score_words(score: int | None) -> str:
    return scores.spoken(score, score_format())


def score_value(score: int | None) -> str:
    return scores.field_value(score, score_format())


def score_choices() -> list[tuple[str, str, str]] | None:
    return scores.choices(score_format())


def score_bounds() -> tuple[str, str]:
    return scores.bounds(score_format())


def score_scale() -> str:
    """What a number score is out of, for a label: ``0 to 100``."""
    return f"0 to {score_bounds()[0]}"


# The sync badge on rows and the item page: (label, what it means).
SYNC_BADGES = {
    "synced": ("Synced", "Saved on AniList"),
    "pending": ("Pending", "Changed here; waiting to be sent to AniList"),
    "error": ("Sync error", "AniList did not accept the last try; it is retried automatically"),
}


def health_badge(status: dict[str, Any]) -> tuple[str, str]:
    """The AniList connection badge: (label, colour class) from ``anilist.status()``."""
    health, error = status["health"], (status.get("last_error") or "").lower()
    if health == "needs_reauth":
        return "Needs reconnecting", "state-error"
    if health == "waiting":
        if "unreachable" in error:
            return "Waiting — AniList unreachable", "state-warning"
        if "rate limit" in error:
            return "Waiting — AniList is busy", "state-warning"
        return "Waiting — AniList refused a change", "state-warning"
    if health == "error":
        return "Last sync failed", "state-error"
    return "OK", "state-ok"


def conflict_summary(conflict: ConflictView) -> str:
    """What happened, in a sentence."""
    if conflict.deleted_on_anilist:
        return "Deleted on AniList; kept here. A change made here adds it to AniList again."
    if conflict.winner == "local":
        return "Changed here and on AniList; the change made here was newer and was kept."
    if conflict.winner == "remote":
        return "Changed here and on AniList; AniList’s change was newer and was applied."
    return "Changed here and on AniList."


SIDE_NAMES = {"local": "Here", "remote": "AniList"}
# (button label, what it does) for each side a person can pick.
USE_SIDE = {
    "local": ("Use the value from here", "and send it to AniList"),
    "remote": ("Use AniList’s value", "here too"),
}


def keep_label(conflict: ConflictView) -> str:
    """The button that settles a conflict with what was applied."""
    if conflict.deleted_on_anilist:
        return "Keep it here"
    return {"local": "Keep the value from here", "remote": "Keep AniList’s value"}.get(
        conflict.winner or "", "Dismiss"
    )


def conflict_resolution(conflict: ConflictView) -> str:
    if conflict.resolution is None:
        return ""
    if conflict.resolution == conflict.winner:
        return "Resolved: you kept the value that was applied."
    side = "AniList’s value" if conflict.resolution == "remote" else "the value from here"
    return f"Resolved: you chose {side} instead."


class Macros:
    """A template's macros for any template to call as ``name.macro(...)``.

    ``{% from … import … %}`` makes the imported template again on every render, and
    every row of a list is a render: this makes it once (Jinja's ``Template.module``,
    remade only when the template itself is reloaded). The macros see the globals
    (``url_for``, the helpers below), not a caller's variables: they take what they
    show as arguments."""

    def __init__(self, template: str) -> None:
        self.template = template

    def __getattr__(self, name: str) -> Any:
        return getattr(current_app.jinja_env.get_template(self.template).module, name)


def register_template_helpers(bp: Blueprint) -> None:
    helpers = (status_label, type_label, format_label, field_label, shown, shown_value,
               conflict_summary, conflict_resolution, keep_label, health_badge,
               unit_for, item_title, local_time, time_span, aired, score_label, score_words,
               score_value, score_choices, score_bounds, score_scale)  # fmt: skip
    for helper in helpers:
        bp.add_app_template_global(helper)
    bp.add_app_template_global(preferences.current, "current_preferences")
    bp.add_app_template_global(STATUS_ORDER, "STATUS_ORDER")
    bp.add_app_template_global(STATUS_OPTIONS, "STATUS_OPTIONS")
    bp.add_app_template_global(MEDIA_TYPES, "MEDIA_TYPES")
    bp.add_app_template_global(SORT_CHOICES, "SORT_CHOICES")
    bp.add_app_template_global(SOURCE_NAMES, "SOURCE_NAMES")
    bp.add_app_template_global(SYNC_BADGES, "SYNC_BADGES")
    bp.add_app_template_global(SIDE_NAMES, "SIDE_NAMES")
    bp.add_app_template_global(USE_SIDE, "USE_SIDE")
    bp.add_app_template_global(Macros("partials/_macros.html"), "ui")
    bp.add_app_template_global(Macros("library/partials/_controls.html"), "controls")
