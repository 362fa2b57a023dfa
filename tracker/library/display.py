"""How library values read on the page: status names, units, formats, sort choices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint

from tracker.models import MEDIA_TYPES, STATUSES, MediaType
from tracker.services.library import unit_for

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
    """A field's value in the history: statuses by name, the rest as ``shown``."""
    if field == "status" and isinstance(value, str):
        return status_label(value, media_type)
    return shown(value)


# The sync badge on rows and the item page: (label, what it means).
SYNC_BADGES = {
    "synced": ("Synced", "Saved on AniList"),
    "pending": ("Pending", "Changed here; waiting to be sent to AniList"),
    "error": ("Sync error", "AniList did not accept the last try; it is retried automatically"),
}


@dataclass(frozen=True)
class Conflict:
    """A history entry for an entry changed on both sides, in words."""

    summary: str
    values: list[tuple[str, str]]  # (field label, value) of the side that lost, if kept


def describe_conflict(changes: dict[str, Any], media_type: str | None = None) -> Conflict:
    """``{"winner": "local", "remote": {...}}``, ``{"winner": "remote", "local": {...}}``
    or ``{"remote": "deleted on AniList", ...}`` (as the sync service writes them)."""
    winner = changes.get("winner")
    if winner == "local":
        summary = "Changed here and on AniList; the change made here was newer and was kept."
        lost, side = changes.get("remote"), "AniList had"
    elif winner == "remote":
        summary = "Changed here and on AniList; AniList’s change was newer and was applied."
        lost, side = changes.get("local"), "This copy had"
    elif changes.get("remote") == "deleted on AniList":
        return Conflict(
            "Deleted on AniList; kept here. A change made here adds it to AniList again.", []
        )
    else:
        return Conflict("Changed here and on AniList.", [])
    if not isinstance(lost, dict):
        return Conflict(summary, [])
    values = [(field_label(k), shown_value(k, v, media_type)) for k, v in lost.items()
              if v is not None]  # fmt: skip
    return Conflict(f"{summary} {side}:", values)


def register_template_helpers(bp: Blueprint) -> None:
    helpers = (status_label, type_label, format_label, field_label, shown, shown_value,
               describe_conflict, unit_for)  # fmt: skip
    for helper in helpers:
        bp.add_app_template_global(helper)
    bp.add_app_template_global(STATUS_ORDER, "STATUS_ORDER")
    bp.add_app_template_global(MEDIA_TYPES, "MEDIA_TYPES")
    bp.add_app_template_global(SORT_CHOICES, "SORT_CHOICES")
    bp.add_app_template_global(SOURCE_NAMES, "SOURCE_NAMES")
    bp.add_app_template_global(SYNC_BADGES, "SYNC_BADGES")
