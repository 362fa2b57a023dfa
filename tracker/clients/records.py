"""Plain records the clients return; the catalogue upserts them into ``media``."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class Titles(TypedDict):
    romaji: str | None
    english: str | None
    native: str | None


class MediaRecord(TypedDict):
    """One title as a remote source describes it, in the shape of the ``media`` table.

    ``status`` uses AniList's vocabulary in lower case (``finished``, ``releasing``,
    ``not_yet_released``, ``cancelled``, ``hiatus``) whatever the source; ``format``
    is AniList's enum as sent (``TV``, ``MOVIE``, ``MANGA``, …).
    """

    source: str  # "anilist" | "mangadex"
    external_id: str  # the id at that source (AniList int as text, MangaDex UUID)
    anilist_id: int | None
    mal_id: int | None
    type: str  # "anime" | "manga"
    titles: Titles
    synonyms: list[str]
    cover_url: str | None
    format: str | None
    site_url: str | None
    episodes: int | None
    chapters: int | None
    volumes: int | None
    status: str | None
    year: int | None
    duration: NotRequired[int | None]  # minutes per episode (anime)
    season: NotRequired[str | None]  # "winter" … "fall"; anime on AniList only
    synopsis: NotRequired[str | None]  # plain text
    genres: NotRequired[list[str]]
    studios: NotRequired[list[str]]  # the main studios' names
    next_airing_episode: int | None
    next_airing_at: int | None  # unix seconds
