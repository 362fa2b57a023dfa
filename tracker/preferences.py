"""A person's preferences: what each one may be, its default, and the signed-in
person's for this request.

They are kept in ``users.preferences`` (JSON) and enter only through
``schemas.ProfileSchema`` and ``services.accounts.update_profile``; reading them here
still falls back to the default for anything unknown, so an old or hand-edited value
never breaks a page.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import g
from flask_login import current_user

from tracker import scores

TITLE_LANGUAGES = ("romaji", "english", "native")
TITLE_LANGUAGE_NAMES = {
    "romaji": "Romaji (Shingeki no Kyojin)",
    "english": "English (Attack on Titan)",
    "native": "Native (進撃の巨人)",
}
# Every IANA name this server's time zone database knows.
TIME_ZONES = tuple(sorted(zoneinfo.available_timezones() | {"UTC"}))
_TIME_ZONES = frozenset(TIME_ZONES)
SORT_KEYS = ("updated", "title", "progress", "score", "created")
# A list's sort: a key, ``-`` first for descending.
LIST_SORTS = (*SORT_KEYS, *(f"-{key}" for key in SORT_KEYS))
MAX_DISPLAY_NAME = 80
# How the library list is laid out: rows with covers, dense rows, or a grid of posters.
LIBRARY_VIEWS = ("list", "compact", "grid")


@dataclass(frozen=True)
class Preferences:
    display_name: str | None = None
    title_language: str = "romaji"
    score_format: str = scores.DEFAULT_FORMAT
    timezone: str = "UTC"
    default_sort: str = "-updated"
    library_view: str = "list"


DEFAULTS = Preferences()
FIELDS = tuple(Preferences.__dataclass_fields__)
_ALLOWED = {
    "title_language": frozenset(TITLE_LANGUAGES),
    "score_format": frozenset(scores.FORMATS),
    "timezone": _TIME_ZONES,
    "default_sort": frozenset(LIST_SORTS),
    "library_view": frozenset(LIBRARY_VIEWS),
}


def read(stored: Mapping[str, Any] | None) -> Preferences:
    """The stored preferences, each unknown or missing one as its default."""
    stored = stored or {}
    values: dict[str, Any] = {}
    for name, allowed in _ALLOWED.items():
        if stored.get(name) in allowed:
            values[name] = stored[name]
    name = stored.get("display_name")
    if isinstance(name, str) and name:
        values["display_name"] = name
    return Preferences(**values)


def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name if name in _TIME_ZONES else "UTC")


# --- the signed-in person, in this request ----------------------------------------------


def current() -> Preferences:
    """The signed-in person's preferences, read once per request from the user row the
    request loaded (a commit does not expire it: it is kept outside the session)."""
    if "preferences" not in g:
        user = current_user
        g.preferences = read(user.preferences) if user and user.is_authenticated else DEFAULTS
    return g.preferences


def local_time(moment: datetime | None) -> str:
    """A time in the person's zone, with the zone named: ``2024-05-17 20:30 Europe/Paris``."""
    if moment is None:
        return "–"
    name = current().timezone
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(zone(name)):%Y-%m-%d %H:%M} {name}"
