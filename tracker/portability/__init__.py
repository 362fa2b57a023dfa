"""Moving a library in and out: the files other trackers and this one write.

Every reader turns a file into ``ParsedFile`` (rows in one shape, ``ImportRow``, plus
what it skipped and why); every writer reads items and writes a file. Neither touches
the database: matching and applying belong to ``tracker.services.imports``, reading the
library to ``tracker.services.exports``. No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The formats a file can be (DESIGN §5 ``format=``), and this app's own export version.
FORMATS = ("mal", "yamtrack", "json", "csv")
EXPORT_VERSION = 1

# MyAnimeList's words for a status, both ways. MAL has no "repeating": it is Watching or
# Reading with the rewatching/rereading flag set.
MAL_STATUSES = {
    "watching": "current",
    "reading": "current",
    "completed": "completed",
    "on-hold": "paused",
    "dropped": "dropped",
    "plan to watch": "planning",
    "plan to read": "planning",
}
TO_MAL_STATUS = {
    ("anime", "current"): "Watching",
    ("manga", "current"): "Reading",
    ("anime", "repeating"): "Watching",
    ("manga", "repeating"): "Reading",
    ("anime", "planning"): "Plan to Watch",
    ("manga", "planning"): "Plan to Read",
    ("anime", "completed"): "Completed",
    ("manga", "completed"): "Completed",
    ("anime", "paused"): "On-Hold",
    ("manga", "paused"): "On-Hold",
    ("anime", "dropped"): "Dropped",
    ("manga", "dropped"): "Dropped",
}


@dataclass
class ImportRow:
    """One entry of an imported file, in this app's terms (validated by its reader).

    ``row`` is where it stands in the file (1-based, as a person counts), for reports.
    Scores are 0 to 100; dates are partial ISO strings (``"2024"``, ``"2024-05"``,
    ``"2024-05-17"``) or None. ``source``, ``cover_url``, ``created_at``, ``updated_at``
    and ``events`` only come from this app's own exports (``events`` from its JSON, each
    ``{at, origin, kind, changes, resolved_at, resolution}`` with aware UTC datetimes),
    so that a round trip restores the library as it was.
    """

    row: int
    type: str  # anime | manga
    title: str
    status: str  # one of the six statuses
    progress: int = 0
    progress_volumes: int | None = None
    max_progress: int | None = None
    score: int | None = None
    notes: str | None = None
    repeat: int = 0
    private: bool = False
    started_on: str | None = None
    completed_on: str | None = None
    anilist_id: int | None = None
    mal_id: int | None = None
    mangadex_id: str | None = None
    custom_lists: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    source: str | None = None  # anilist | mangadex | manual
    cover_url: str | None = None  # the person's own cover, not the catalogue's
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Skipped:
    """A row of the file that is not imported, and why, in words a person can act on."""

    row: int
    title: str | None
    reason: str


@dataclass
class ParsedFile:
    format: str
    rows: list[ImportRow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class UnreadableFile(ValueError):
    """The file is not of the kind it claims (or of any kind known), or is broken: the
    message names the row or the place where reading stopped."""
