"""Clients for the remote sources. No Flask and no database in here (DESIGN §1)."""

from tracker.clients.anilist import (
    ALL_DOCUMENTS,
    UNSET,
    AniListClient,
    ListChunk,
    ListEntry,
    ListPage,
    ViewerInfo,
    fuzzy_to_iso,
    iso_to_fuzzy,
)
from tracker.clients.errors import (
    BadResponse,
    ClientError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from tracker.clients.mangadex import MangaDexClient
from tracker.clients.ratelimit import MemoryBudget, RedisBudget, RequestBudget, TokenBucketBudget
from tracker.clients.records import MediaRecord, Titles

__all__ = [
    "ALL_DOCUMENTS",
    "UNSET",
    "AniListClient",
    "BadResponse",
    "ClientError",
    "ListChunk",
    "ListEntry",
    "ListPage",
    "MangaDexClient",
    "MediaRecord",
    "MemoryBudget",
    "NotFound",
    "RateLimited",
    "RedisBudget",
    "RequestBudget",
    "Titles",
    "TokenBucketBudget",
    "Unauthorized",
    "Unavailable",
    "ViewerInfo",
    "fuzzy_to_iso",
    "iso_to_fuzzy",
]
