"""Typed SQLAlchemy models (DESIGN §3)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    exists,
    false,
    func,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from tracker.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(db.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def render_migration_type(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Autogenerate writes UTCDateTime as a plain DateTime, so revisions never import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# The title search index lives outside the models: an FTS5 table (with its shadow
# tables) on SQLite, a pg_trgm GIN index on PostgreSQL. Revision 0006 owns both.
SEARCH_INDEX_TABLE = "media_fts"
SEARCH_INDEX_NAME = "ix_media_search_text_trgm"


def modelled(_object: Any, name: str | None, type_: str, _reflected: bool, _to: Any) -> bool:
    """Autogenerate's filter: compare only what the models describe."""
    if type_ == "table" and (name or "").startswith(SEARCH_INDEX_TABLE):
        return False
    return not (type_ == "index" and name == SEARCH_INDEX_NAME)


class MediaType(enum.StrEnum):
    ANIME = "anime"
    MANGA = "manga"


class Status(enum.StrEnum):
    CURRENT = "current"
    PLANNING = "planning"
    COMPLETED = "completed"
    DROPPED = "dropped"
    PAUSED = "paused"
    REPEATING = "repeating"


class Origin(enum.StrEnum):
    WEB = "web"
    API = "api"
    ANILIST = "anilist"
    IMPORT = "import"


MEDIA_TYPES = tuple(t.value for t in MediaType)
STATUSES = tuple(s.value for s in Status)
MEDIA_SOURCES = ("anilist", "mangadex", "manual")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A disabled account cannot log in, and its sessions and tokens stop working.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Admins see the users page (disable an account, make a password-reset link).
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # SHA-256 of the secret in the private calendar feed's URL; None: no feed.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    # The session this request came in through (not a column): set by the login and by
    # the user lookup, and what Flask-Login keeps in the cookies (``get_id``).
    session_id = None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_id}"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


# Usernames are unique whatever their case.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class UserSession(db.Model):
    """One way in that the user can see and end: a browser login (``browser``) or a
    bearer JWT from ``POST /api/auth/token`` (``jwt``).

    The browser's cookie and the JWT name this row by its random id; a revoked or
    expired row lets nobody in, whatever the cookie or token still says."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # browser | jwt
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(64))


class ApiToken(db.Model):
    """A personal API token for scripts: shown once, kept only as its SHA-256."""

    __tablename__ = "api_tokens"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PasswordReset(db.Model):
    """A one-time password-reset link: kept as its SHA-256, valid for a short while."""

    __tablename__ = "password_resets"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthThrottle(db.Model):
    """Failed sign-ins counted per account and per address, shared by every process
    (when no Redis is configured): each failure past the free ones doubles the wait."""

    __tablename__ = "auth_throttles"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[float] = mapped_column(Float, default=0.0)  # unix seconds
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)  # unix seconds


class Media(db.Model):
    """The local catalogue, shared by every user."""

    __tablename__ = "media"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    anilist_id: Mapped[int | None] = mapped_column(Integer, index=True)
    mal_id: Mapped[int | None] = mapped_column(Integer, index=True)
    media_type: Mapped[str] = mapped_column(String(8))
    title_romaji: Mapped[str | None] = mapped_column(String(500))
    title_english: Mapped[str | None] = mapped_column(String(500))
    title_native: Mapped[str | None] = mapped_column(String(500))
    title_preferred: Mapped[str] = mapped_column(String(500))
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Lower-cased titles and synonyms, one per line: what local search matches.
    search_text: Mapped[str] = mapped_column(Text, default="")
    cover_url: Mapped[str | None] = mapped_column(String(1000))
    format: Mapped[str | None] = mapped_column(String(16))
    site_url: Mapped[str | None] = mapped_column(String(1000))
    episodes: Mapped[int | None] = mapped_column(Integer)
    chapters: Mapped[int | None] = mapped_column(Integer)
    volumes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(24))
    year: Mapped[int | None] = mapped_column(Integer)
    # AniList's season (winter, spring, summer, fall) for anime; plain-text synopsis;
    # genre and main studio names.
    season: Mapped[str | None] = mapped_column(String(8))
    synopsis: Mapped[str | None] = mapped_column(Text)
    genres: Mapped[list[str] | None] = mapped_column(JSON)
    studios: Mapped[list[str] | None] = mapped_column(JSON)
    next_airing_episode: Mapped[int | None] = mapped_column(Integer)
    next_airing_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Minutes per episode (anime), for the time-spent estimate.
    duration: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the airing schedule (``airing_episodes``) and the relations
    # (``media_relations``) were last read from AniList; None: never.
    airing_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    relations_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def total(self) -> int | None:
        return self.episodes if self.media_type == MediaType.ANIME else self.chapters


class AiringEpisode(db.Model):
    """One coming (or recently aired) episode of a title, as AniList schedules it."""

    __tablename__ = "airing_episodes"

    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    episode: Mapped[int] = mapped_column(Integer, primary_key=True)
    airing_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class MediaRelation(db.Model):
    """How one catalogue title relates to another (AniList's ``MediaRelation``, lower
    case: ``sequel``, ``prequel``, ``side_story``, ``adaptation``, …). Both ends are
    catalogue rows, so the related title can be shown and added without a remote call."""

    __tablename__ = "media_relations"

    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation: Mapped[str] = mapped_column(String(24))


class LibraryItem(db.Model):
    __tablename__ = "library_items"
    __table_args__ = (
        UniqueConstraint("user_id", "media_id"),
        Index("ix_library_items_user_updated", "user_id", "updated_at"),
        CheckConstraint("progress >= 0", name="progress_not_negative"),
        # Ids are never reused (SQLite would): history and pending pushes name items by id.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    media_type: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(500))
    cover_url: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default=Status.PLANNING.value)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    progress_volumes: Mapped[int | None] = mapped_column(Integer)
    max_progress_override: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    # Partial ISO dates as AniList keeps them: "2024", "2024-05" or "2024-05-17".
    started_on: Mapped[str | None] = mapped_column(String(10))
    completed_on: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    anilist_entry_id: Mapped[int | None] = mapped_column(Integer)
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Names of the AniList custom lists the entry is in (kept from pulls, sent on pushes).
    custom_lists: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    media: Mapped[Media | None] = relationship(lazy="joined")
    # The push waiting for this item, if any: joined on every load, so the sync badge
    # never costs a query of its own.
    outbox: Mapped[SyncOutbox | None] = relationship(
        primaryjoin="foreign(SyncOutbox.item_id) == LibraryItem.id",
        lazy="joined",
        viewonly=True,
        uselist=False,
    )

    @property
    def max_progress(self) -> int | None:
        if self.max_progress_override is not None:
            return self.max_progress_override
        return self.media.total if self.media is not None else None

    @property
    def display_cover(self) -> str | None:
        return self.cover_url or (self.media.cover_url if self.media is not None else None)

    @property
    def source(self) -> str:
        return self.media.source if self.media is not None else "manual"

    @property
    def format(self) -> str | None:
        return self.media.format if self.media is not None else None

    @property
    def site_url(self) -> str | None:
        return self.media.site_url if self.media is not None else None

    @property
    def anilist_id(self) -> int | None:
        return self.media.anilist_id if self.media is not None else None

    @property
    def mal_id(self) -> int | None:
        return self.media.mal_id if self.media is not None else None

    @property
    def mangadex_id(self) -> str | None:
        if self.media is not None and self.media.source == "mangadex":
            return self.media.external_id
        return None

    @property
    def sync(self) -> dict[str, Any]:
        """Where the item stands with AniList: none, pending, synced or error (with the
        outbox's ``last_error``, the reason in words), from the outbox row loaded with
        the item."""
        error = self.outbox.last_error if self.outbox is not None else None
        if self.outbox is None:
            state = "synced" if self.synced_at else "none"
        else:
            state = "error" if error else "pending"
        return {"state": state, "synced_at": self.synced_at, "last_error": error}


class ItemEvent(db.Model):
    """History of one item: what changed, when, and where the change came from."""

    __tablename__ = "item_events"
    __table_args__ = (
        Index("ix_item_events_item_at", "item_id", "at"),
        Index("ix_item_events_user_kind", "user_id", "kind"),  # unresolved conflicts, counted
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the history of a deleted item (and its delete) is kept.
    item_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    origin: Mapped[str] = mapped_column(String(16))
    # created | updated | deleted | restored | conflict
    kind: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A conflict is resolved when the person picks a side: "local" or "remote" (the value
    # kept here, or AniList's).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(String(8))


class AniListAccount(db.Model):
    __tablename__ = "anilist_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    anilist_user_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    access_token_encrypted: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score_format: Mapped[str] = mapped_column(String(24), default="POINT_100")
    state: Mapped[str] = mapped_column(String(16), default="ok")
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Connected but never merged: nothing is pulled or pushed until the owner chooses.
    first_sync_pending: Mapped[bool] = mapped_column(Boolean, default=False,
                                                     server_default=false())  # fmt: skip
    # Periodic pulls that failed in a row, and when the next one may be tried.
    pull_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last pull that read the whole list (a periodic pull reads only what changed
    # since the last one, and the whole list once a day).
    last_full_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # AniList's updatedAt (unix seconds, AniList's clock) of the newest entry a pull read.
    pull_watermark: Mapped[int | None] = mapped_column(Integer)


class OAuthState(db.Model):
    """An AniList connection in progress: the ``state`` is bound to the user here, on the
    server, so the flow works without a browser session and each state works once."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SyncOutbox(db.Model):
    """Pending pushes to AniList; one row per item, later edits coalesce into it."""

    __tablename__ = "sync_outbox"
    __table_args__ = (
        Index("ix_sync_outbox_next_attempt_at", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(Integer, unique=True)
    op: Mapped[str] = mapped_column(String(8))  # save | delete
    anilist_entry_id: Mapped[int | None] = mapped_column(Integer)
    anilist_media_id: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What went wrong, in words the person can act on (shown as the item's sync error).
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set when AniList refused the change (or it could not be mapped): quarantined, not
    # retried until the item is edited again.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The request of the latest change (X-Request-ID): the push is logged under it.
    request_id: Mapped[str | None] = mapped_column(String(128))


# Whether the user has linked AniList, loaded with the user row (no query of its own):
# a change is queued for AniList only then.
User.anilist_linked = column_property(
    exists().where(AniListAccount.user_id == User.id).correlate_except(AniListAccount)
)


class RateBudget(db.Model):
    """A request budget shared by every process (when no Redis is configured)."""

    __tablename__ = "rate_budgets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[float] = mapped_column(Float)  # unix seconds
    closed_until: Mapped[float] = mapped_column(Float, default=0.0)


class SearchCacheEntry(db.Model):
    """A remote search answer, kept for a TTL so one query costs one upstream request."""

    __tablename__ = "search_cache"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class Job(db.Model):
    """Background work (imports, syncs, backfills), run by the outbox worker."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_created", "state", "created_at"),
        {"sqlite_autoincrement": True},  # a job's URL never points at a later job
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A file import's parsed rows, kept a while so its preview can be applied without
    # uploading again; loaded only when asked for (it may hold thousands of rows).
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    # The request that queued the job (X-Request-ID): the worker logs under it.
    request_id: Mapped[str | None] = mapped_column(String(128))
