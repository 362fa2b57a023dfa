"""Failed sign-ins, counted where every process sees them: the database, or Redis when
TRACKER_REDIS_URL is set.

Backoff, not lockout. A key (an account, an address) has TRACKER_LOGIN_FREE_FAILURES
failures for free; each one after that doubles the wait before the next attempt
(1 s, 2 s, 4 s …) up to the key's cap. An account's cap is small
(TRACKER_LOGIN_MAX_WAIT_ACCOUNT): someone hammering a stranger's account makes its
owner wait a minute at most, while guessing stays at about one try a minute. An
address's cap is larger (TRACKER_LOGIN_MAX_WAIT_ADDRESS). A key is forgotten after a
quiet hour; an account's key also on a successful sign-in.

Other checks of a secret (a password change, say) reuse ``guard`` with their own keys.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import redis
from flask import current_app
from sqlalchemy import Engine, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker.extensions import db
from tracker.models import AuthThrottle
from tracker.services.errors import Throttled, Unauthorized

log = logging.getLogger(__name__)

FORGET_AFTER = 3600.0  # seconds without a failure before a key starts afresh
MAX_KEY = 255  # the auth_throttles.key column

T = TypeVar("T")


@dataclass(frozen=True)
class Key:
    """One counter: its stored name, the longest wait it can impose, and whether a
    success clears it (an address's count survives one person's success there, or an
    attacker could clear it by signing in to an account of their own)."""

    name: str
    max_wait: float
    reset_on_success: bool = True


def sign_in_keys(username: str, address: str | None) -> list[Key]:
    """The keys a sign-in counts against: the account (lower-cased) and the address."""
    config = current_app.config
    return [
        Key(_bounded(f"account:{username.lower()}"), float(config["LOGIN_MAX_WAIT_ACCOUNT"])),
        Key(
            _bounded(f"address:{_network(address)}"),
            float(config["LOGIN_MAX_WAIT_ADDRESS"]),
            reset_on_success=False,
        ),
    ]


def guard(keys: Sequence[Key], attempt: Callable[[], T], *, now: float | None = None) -> T:
    """Run ``attempt`` unless a key is blocked; count its ``Unauthorized`` as a failure.

    A blocked attempt raises ``Throttled`` before ``attempt`` runs, so it never even
    checks the password (and so tells nothing, however many are sent)."""
    check(keys, now=now)
    try:
        result = attempt()
    except Unauthorized:
        failed(keys, now=now)
        raise
    succeeded(keys)
    return result


def check(keys: Sequence[Key], *, now: float | None = None) -> None:
    """Raise ``Throttled`` while any of ``keys`` is blocked."""
    now = _now(now)
    until = _store().blocked_until([k.name for k in keys])
    if until > now:
        raise Throttled(max(1, math.ceil(until - now)))


def failed(keys: Sequence[Key], *, now: float | None = None) -> None:
    """Count a failure against each key; past the free ones, block it for a while."""
    now = _now(now)
    free = int(current_app.config["LOGIN_FREE_FAILURES"])
    store = _store()
    for key in keys:
        failures = store.count_failure(key.name, now)
        wait = wait_after(failures, free, key.max_wait)
        if wait > 0:
            store.block(key.name, now + wait, key.max_wait)


def succeeded(keys: Sequence[Key]) -> None:
    _store().clear([k.name for k in keys if k.reset_on_success])


def wait_after(failures: int, free: int, max_wait: float) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: none while free,
    then 1, 2, 4 … up to ``max_wait``."""
    beyond = failures - free
    if beyond <= 0:
        return 0.0
    return min(max_wait, 2.0 ** min(beyond - 1, 62))


def forget_quiet(now: float | None = None) -> int:
    """Remove counters quiet for an hour (the worker's housekeeping; Redis expires its own)."""
    return _store().forget_quiet(_now(now) - FORGET_AFTER)


def _now(now: float | None) -> float:
    return now if now is not None else current_app.config["THROTTLE_CLOCK"]()


def _network(address: str | None) -> str:
    """An IPv4 address, or the /64 an IPv6 address is in (one host usually holds a
    whole /64, so counting single IPv6 addresses would count nothing)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _bounded(name: str) -> str:
    """``name`` as it is when it fits the key column, else a digest of it."""
    if len(name) <= MAX_KEY:
        return name
    kind = name.split(":", 1)[0]
    return f"{kind}:sha256:{hashlib.sha256(name.encode()).hexdigest()}"


# --- stores ----------------------------------------------------------------------------


class ThrottleStore(Protocol):
    def blocked_until(self, names: list[str]) -> float:
        """The latest time any of ``names`` is blocked until (0 when none is)."""
        ...

    def count_failure(self, name: str, now: float) -> int:
        """Add a failure atomically (starting afresh after a quiet hour); return the count."""
        ...

    def block(self, name: str, until: float, max_wait: float) -> None:
        """Block ``name`` until ``until``, unless it already is for longer."""
        ...

    def clear(self, names: list[str]) -> None: ...

    def forget_quiet(self, before: float) -> int: ...


class DatabaseThrottleStore:
    """Counters in ``auth_throttles``: each failure is one ``INSERT … ON CONFLICT DO
    UPDATE … RETURNING``, atomic on SQLite and PostgreSQL alike. Its own connection and
    transaction: a request that fails and rolls back still counts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table = AuthThrottle.__table__
        self.insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def blocked_until(self, names: list[str]) -> float:
        with self.engine.connect() as conn:
            until = conn.scalar(
                select(func.max(self.table.c.blocked_until)).where(self.table.c.key.in_(names))
            )
        return until or 0.0

    def count_failure(self, name: str, now: float) -> int:
        c = self.table.c
        quiet = c.last_failed_at <= now - FORGET_AFTER
        statement = (
            self.insert(self.table)
            .values(key=name, failures=1, last_failed_at=now, blocked_until=0.0)
            .on_conflict_do_update(
                index_elements=[c.key],
                set_={
                    "failures": case((quiet, 1), else_=c.failures + 1),
                    "blocked_until": case((quiet, 0.0), else_=c.blocked_until),
                    "last_failed_at": now,
                },
            )
            .returning(c.failures)
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).scalar_one()

    def block(self, name: str, until: float, max_wait: float) -> None:
        c = self.table.c
        with self.engine.begin() as conn:
            conn.execute(
                update(self.table)
                .where(c.key == name, c.blocked_until < until)
                .values(blocked_until=until)
            )

    def clear(self, names: list[str]) -> None:
        if names:
            with self.engine.begin() as conn:
                conn.execute(delete(self.table).where(self.table.c.key.in_(names)))

    def forget_quiet(self, before: float) -> int:
        c = self.table.c
        with self.engine.begin() as conn:
            quiet = delete(self.table).where(c.last_failed_at < before, c.blocked_until < before)
            return conn.execute(quiet).rowcount


# One hash per key. Counting is a script so the quiet-hour reset and the increment are
# one step; numbers go back as strings (Redis would truncate a Lua float).
_COUNT_FAILURE = """
local now, forget = tonumber(ARGV[1]), tonumber(ARGV[2])
local last = tonumber(redis.call('HGET', KEYS[1], 'last_failed_at')) or 0
local failures
if now - last >= forget then
  failures = 1
  redis.call('HSET', KEYS[1], 'failures', 1, 'blocked_until', '0')
else
  failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
end
redis.call('HSET', KEYS[1], 'last_failed_at', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], math.ceil(forget))
return failures
"""

_BLOCK = """
local until_ = tonumber(ARGV[1])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until')) or 0
if until_ > blocked then
  redis.call('HSET', KEYS[1], 'blocked_until', string.format('%.6f', until_))
end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
return 'ok'
"""


def _or_database(method: Callable[..., T]) -> Callable[..., T]:
    """Redis out of reach must not stop people signing in: count in the database then."""

    @functools.wraps(method)
    def wrapper(self: RedisThrottleStore, *args: Any) -> T:
        try:
            return method(self, *args)
        except redis.RedisError as error:
            log.warning("Sign-in throttle: Redis unreachable (%s); counting in the database", error)
            return getattr(self.fallback, method.__name__)(*args)

    return wrapper


class RedisThrottleStore:
    """Counters in Redis hashes under ``prefix``; Redis expires quiet ones itself. While
    Redis cannot be reached, the database counts instead (``fallback``)."""

    def __init__(self, client: Any, fallback: ThrottleStore, prefix: str = "tracker:throttle:"):
        self.client = client
        self.fallback = fallback
        self.prefix = prefix
        self._count = client.register_script(_COUNT_FAILURE)
        self._block = client.register_script(_BLOCK)

    @_or_database
    def blocked_until(self, names: list[str]) -> float:
        pipeline = self.client.pipeline(transaction=False)
        for name in names:
            pipeline.hget(self.prefix + name, "blocked_until")
        return max((float(value) for value in pipeline.execute() if value), default=0.0)

    @_or_database
    def count_failure(self, name: str, now: float) -> int:
        return int(self._count(keys=[self.prefix + name], args=[f"{now:.6f}", FORGET_AFTER]))

    @_or_database
    def block(self, name: str, until: float, max_wait: float) -> None:
        # Kept until the block ends and an hour has passed since the failure.
        self._block(keys=[self.prefix + name], args=[f"{until:.6f}", FORGET_AFTER + max_wait])

    @_or_database
    def clear(self, names: list[str]) -> None:
        if names:
            self.client.delete(*(self.prefix + name for name in names))

    def forget_quiet(self, before: float) -> int:
        return self.fallback.forget_quiet(before)  # what was counted while Redis was away


def store_for(config: Any, engine: Engine) -> ThrottleStore:
    if config.get("REDIS_URL"):
        client = redis.Redis.from_url(config["REDIS_URL"], socket_timeout=1)
        return RedisThrottleStore(client, DatabaseThrottleStore(engine))
    return DatabaseThrottleStore(engine)


def _store() -> ThrottleStore:
    """This app's store, built on first use."""
    extensions = current_app.extensions
    if "tracker.throttle" not in extensions:
        extensions["tracker.throttle"] = store_for(current_app.config, db.engine)
    return extensions["tracker.throttle"]
