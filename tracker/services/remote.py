"""The remote sources as this deployment uses them: clients built from configuration,
one request budget and one answer cache shared by every user and process."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
import requests
from flask import current_app
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tracker.clients import (
    AniListClient,
    ClientError,
    MangaDexClient,
    RateLimited,
    RedisBudget,
    RequestBudget,
)
from tracker.clients.ratelimit import TokenBucketBudget
from tracker.extensions import db
from tracker.models import RateBudget, SearchCacheEntry

OK, UNAVAILABLE, RATE_LIMITED = "ok", "unavailable", "rate_limited"
NOT_ASKED = "not_asked"  # not asked (yet, or this time): no claim about its health
USER_AGENT = "Tracker/0.1 (self-hosted anime and manga tracker)"


class DatabaseBudget(TokenBucketBudget):
    """The token bucket of ``MemoryBudget``, kept in one ``rate_budgets`` row.

    Updates are optimistic (compare-and-set on the values read), so it is safe
    across processes on SQLite and PostgreSQL alike without row locks.
    """

    def __init__(
        self,
        engine: Engine,
        name: str,
        per_minute: float,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        super().__init__(per_minute, burst=burst, sleep=sleep, label=name)
        self.engine = engine
        self.name = name
        self._clock = clock

    def _reserve(self, take: bool, keep: int = 0) -> float:
        table = RateBudget.__table__
        for _ in range(20):
            now = self._clock()
            with self.engine.begin() as conn:
                row = conn.execute(
                    select(table.c.tokens, table.c.refilled_at, table.c.closed_until).where(
                        table.c.name == self.name
                    )
                ).first()
                if row is None:
                    if not self._create(conn, now):
                        continue
                    row = (float(self.burst), now, 0.0)
                tokens, last, closed_until = row
                if now < closed_until:
                    return closed_until - now
                available = min(self.burst, tokens + max(0.0, now - last) * self.rate)
                if available < 1 + keep:
                    return (1 + keep - available) / self.rate
                if not take:
                    return 0.0
                taken = conn.execute(
                    update(table)
                    .where(
                        table.c.name == self.name,
                        table.c.tokens == tokens,
                        table.c.refilled_at == last,
                    )
                    .values(tokens=available - 1, refilled_at=max(last, now))
                )
                if taken.rowcount == 1:
                    return 0.0
        return 1.0 / self.rate  # heavy contention: behave as if the bucket were empty

    def _create(self, conn: Any, now: float) -> bool:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(RateBudget.__table__).values(
                        name=self.name, tokens=float(self.burst), refilled_at=now, closed_until=0.0
                    )
                )
        except IntegrityError:
            return False  # another process created it first; read theirs
        return True

    def _penalise(self, seconds: float) -> None:
        table = RateBudget.__table__
        self._reserve(take=False)  # make sure the row exists
        until = self._clock() + seconds
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.name == self.name, table.c.closed_until < until)
                .values(closed_until=until, tokens=0.0, refilled_at=until)
            )


class DatabaseCache:
    """Expiring JSON values in ``search_cache``, visible to every process."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock

    def get(self, key: str) -> Any | None:
        table = SearchCacheEntry.__table__
        with self.engine.connect() as conn:
            row = conn.execute(
                select(table.c.value).where(table.c.key == key, table.c.expires_at > self._clock())
            ).first()
        return row[0] if row else None

    def set(self, key: str, value: Any, ttl: float) -> None:
        table = SearchCacheEntry.__table__
        expires = self._clock() + ttl
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key == key))
            conn.execute(insert(table).values(key=key, value=value, expires_at=expires))

    def purge_expired(self) -> int:
        table = SearchCacheEntry.__table__
        with self.engine.begin() as conn:
            return conn.execute(delete(table).where(table.c.expires_at <= self._clock())).rowcount


class RedisCache:
    def __init__(self, client: Any, prefix: str = "tracker:cache:") -> None:
        self.client = client
        self.prefix = prefix

    def get(self, key: str) -> Any | None:
        raw = self.client.get(self.prefix + key)
        return json.loads(raw) if raw else None

    def set(self, key: str, value: Any, ttl: float) -> None:
        self.client.set(self.prefix + key, json.dumps(value), ex=max(1, int(ttl)))


@dataclass
class SourceHealth:
    """What each remote source answered last, and when it last answered well, for the
    sources list and notices."""

    states: dict[str, tuple[str, float]] = field(default_factory=dict)
    last_ok: dict[str, datetime] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def record(self, source: str, state: str) -> None:
        self.states[source] = (state, self.clock())
        if state == OK:
            self.last_ok[source] = datetime.now(UTC)

    def state(self, source: str) -> str:
        return self.states.get(source, (NOT_ASKED, 0.0))[0]

    def last_ok_at(self, source: str) -> datetime | None:
        return self.last_ok.get(source)

    def failing(self, source: str, within: float) -> bool:
        """Did the source fail in the last ``within`` seconds? Then someone typing
        should not wait for it again (offline, every new query would time out)."""
        state, at = self.states.get(source, (NOT_ASKED, 0.0))
        return state not in (OK, NOT_ASKED) and self.clock() - at < within


@dataclass
class Remote:
    anilist: AniListClient
    mangadex: MangaDexClient
    cache: DatabaseCache | RedisCache
    health: SourceHealth
    search_ttl: float
    failure_ttl: float
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)

    _next_purge: float = 0.0

    def purge_expired_answers(self, every: float = 600.0) -> None:
        """Drop expired cached answers from the database, at most every ``every`` s
        (Redis expires its own keys)."""
        now = time.monotonic()
        if isinstance(self.cache, DatabaseCache) and now >= self._next_purge:
            self._next_purge = now + every
            self.cache.purge_expired()

    @contextmanager
    def single_flight(self, key: str) -> Iterator[None]:
        """One upstream request per key at a time in this process; the rest wait for it."""
        with self._locks_guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield


def state_of(error: ClientError) -> str:
    return RATE_LIMITED if isinstance(error, RateLimited) else UNAVAILABLE


def remote() -> Remote:
    """This app's remote sources, built on first use."""
    extensions = current_app.extensions
    if "tracker.remote" not in extensions:
        extensions["tracker.remote"] = _build(current_app.config)
    return extensions["tracker.remote"]


def _build(config: Any) -> Remote:
    session = requests.Session()
    redis_client = None
    if config.get("REDIS_URL"):
        redis_client = redis.Redis.from_url(config["REDIS_URL"])
    options = {"session": session, "user_agent": USER_AGENT, **config.get("REMOTE_OPTIONS", {})}
    per_minute = float(config["ANILIST_RATE_PER_MINUTE"])
    sleep = options.get("sleep", time.sleep)
    budget: RequestBudget
    if redis_client is not None:
        budget = RedisBudget(
            redis_client, "tracker:budget:anilist", per_minute, sleep=sleep, label="anilist"
        )
    else:
        budget = DatabaseBudget(db.engine, "anilist", per_minute, sleep=sleep)
    return Remote(
        anilist=AniListClient(config["ANILIST_GRAPHQL_URL"], budget=budget, **options),
        mangadex=MangaDexClient(config["MANGADEX_API_URL"], **options),
        cache=RedisCache(redis_client) if redis_client is not None else DatabaseCache(db.engine),
        health=SourceHealth(),
        search_ttl=float(config["SEARCH_CACHE_TTL"]),
        failure_ttl=float(config["SEARCH_FAILURE_TTL"]),
    )
