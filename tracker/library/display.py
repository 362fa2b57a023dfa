"""How library values read on the page: status names, units, formats, sort choices."""

from __future__ import annotations

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


def register_template_helpers(bp: Blueprint) -> None:
    for helper in (status_label, type_label, format_label, field_label, shown, unit_for):
        bp.add_app_template_global(helper)
    bp.add_app_template_global(STATUS_ORDER, "STATUS_ORDER")
    bp.add_app_template_global(MEDIA_TYPES, "MEDIA_TYPES")
    bp.add_app_template_global(SORT_CHOICES, "SORT_CHOICES")
    bp.add_app_template_global(SOURCE_NAMES, "SOURCE_NAMES")
