"""Request budgets: how many calls to a remote API this whole deployment may make.

AniList limits the *client*, not the user, so one budget is shared by every user
and every process (DESIGN §6). A budget is a token bucket: it holds up to
``burst`` requests (default: a minute's worth) and refills at ``per_minute``.
After an HTTP 429 the client calls ``penalise(retry_after)``; the bucket is then
closed for everyone until that time and refills from empty, so the first minute
after a penalty is gentle.

Any object with the three methods of ``RequestBudget`` can be passed to the
clients as ``budget``. A new store (say, a database row) is easiest as a
``TokenBucketBudget`` subclass: implement ``_reserve`` and ``_penalise``
atomically over the bucket's three numbers (tokens, last, closed_until).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from tracker import metrics
from tracker.clients.errors import Unavailable


@runtime_checkable
class RequestBudget(Protocol):
    def acquire(self, block: bool = True, timeout: float | None = None, keep: int = 0) -> bool:
        """Take one request from the budget.

        With ``block`` false, answer at once. With ``block`` true, wait until a
        request is free, but give up (return False, without waiting) as soon as
        the wait would end later than ``timeout`` seconds from now
        (``None``: wait as long as needed). ``keep`` requests are left in the
        budget for callers that keep none (pulls leave room for pushes).
        """
        ...

    def penalise(self, seconds: float) -> None:
        """Close the budget for ``seconds`` (the remote's Retry-After), for every sharer."""
        ...

    def seconds_until_free(self) -> float:
        """How long until ``acquire`` would succeed; 0 when a request is free now."""
        ...


class TokenBucketBudget:
    """Shared logic of the token-bucket budgets; subclasses store the bucket.

    A subclass implements ``_reserve(take)`` (refill, take a token if ``take``
    and one is free, return the wait or 0) and ``_penalise(seconds)`` (close
    the bucket until now + seconds, empty it, refill from then); both must be
    atomic across every process sharing the bucket.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        burst: int | None = None,
        sleep: Callable[[float], Any],
        label: str = "remote",
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.label = label  # whose budget, in the metrics (anilist, mangadex)
        self.per_minute = per_minute
        self.rate = per_minute / 60.0  # requests per second
        self.burst = max(1, int(burst if burst is not None else per_minute))
        self._sleep = sleep

    def acquire(self, block: bool = True, timeout: float | None = None, keep: int = 0) -> bool:
        remaining = timeout
        keep = max(0, min(int(keep), self.burst - 1))  # a full bucket always lets one through
        waited = 0.0
        try:
            while True:
                wait = self._reserve(take=True, keep=keep)
                if wait <= 0:
                    return True
                # Give up before sleeping when the wait cannot fit in the timeout.
                if not block or (remaining is not None and wait > remaining):
                    return False
                self._sleep(wait)
                waited += wait
                if remaining is not None:
                    remaining -= wait
        finally:
            if waited > 0:  # one wait, however many sleeps it took
                metrics.record_budget_wait(self.label, waited)

    def seconds_until_free(self) -> float:
        return max(0.0, self._reserve(take=False))

    def penalise(self, seconds: float) -> None:
        if seconds > 0:
            self._penalise(seconds)

    def _reserve(self, take: bool, keep: int = 0) -> float:
        """Take a token when one is free beyond ``keep`` (if ``take``); return the wait,
        0 when free."""
        raise NotImplementedError

    def _penalise(self, seconds: float) -> None:
        raise NotImplementedError


class MemoryBudget(TokenBucketBudget):
    """Budget for one process (and for tests): thread-safe, with an injectable clock."""

    def __init__(
        self,
        per_minute: float,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
        label: str = "remote",
    ) -> None:
        super().__init__(per_minute, burst=burst, sleep=sleep, label=label)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._last = clock()
        self._closed_until = -math.inf

    def _reserve(self, take: bool, keep: int = 0) -> float:
        with self._lock:
            now = self._clock()
            if now < self._closed_until:
                return self._closed_until - now
            self._tokens = min(self.burst, self._tokens + max(0.0, now - self._last) * self.rate)
            self._last = max(self._last, now)
            if self._tokens >= 1 + keep:
                if take:
                    self._tokens -= 1
                return 0.0
            return (1 + keep - self._tokens) / self.rate

    def _penalise(self, seconds: float) -> None:
        with self._lock:
            until = self._clock() + seconds
            if until > self._closed_until:
                self._closed_until = until
                self._tokens = 0.0
                self._last = until  # refill starts when the penalty ends


# The same bucket as MemoryBudget, kept in one Redis hash and updated atomically.
# Time comes from ARGV (tests) or from the Redis server, so every process agrees.
# Numbers go back as strings: Redis would truncate a Lua float to an integer.
_LUA_NOW = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

_RESERVE_SCRIPT = (
    _LUA_NOW
    + """
local rate, burst, take = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local keep = tonumber(ARGV[5]) or 0
local state = redis.call('HMGET', KEYS[1], 'tokens', 'last', 'closed_until')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
local closed_until = tonumber(state[3]) or 0
if now < closed_until then
  return tostring(closed_until - now)
end
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 + keep then
  if take then tokens = tokens - 1 end
else
  wait = (1 + keep - tokens) / rate
end
if take then
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens),
             'last', string.format('%.6f', math.max(last, now)))
  redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
end
return tostring(wait)
"""
)

_PENALISE_SCRIPT = (
    _LUA_NOW
    + """
local seconds, rate, burst = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local until_ = now + seconds
local closed_until = tonumber(redis.call('HGET', KEYS[1], 'closed_until')) or 0
if until_ > closed_until then
  redis.call('HSET', KEYS[1], 'closed_until', string.format('%.6f', until_),
             'tokens', '0', 'last', string.format('%.6f', until_))
  redis.call('EXPIRE', KEYS[1], math.ceil(seconds + burst / rate) + 60)
end
return 'ok'
"""
)


class RedisBudget(TokenBucketBudget):
    """Budget shared by every process that uses the same Redis and ``key``.

    ``redis_client`` is a ``redis.Redis``. By default time is the Redis server's
    (processes on several hosts agree); ``clock`` replaces it in tests. When Redis
    is unreachable the budget raises ``Unavailable`` rather than letting a
    request through unmetered.
    """

    def __init__(
        self,
        redis_client: Any,
        key: str,
        per_minute: float,
        *,
        burst: int | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        label: str = "remote",
    ) -> None:
        from redis.exceptions import RedisError  # redis is only needed for this class

        super().__init__(per_minute, burst=burst, sleep=sleep, label=label)
        self.key = key
        self._clock = clock
        self._redis_errors = RedisError
        self._reserve_script = redis_client.register_script(_RESERVE_SCRIPT)
        self._penalise_script = redis_client.register_script(_PENALISE_SCRIPT)

    def _now_arg(self) -> str:
        return "" if self._clock is None else f"{self._clock():.6f}"

    def _run(self, script: Any, *args: object) -> Any:
        try:
            return script(keys=[self.key], args=[self._now_arg(), *args])
        except self._redis_errors as exc:
            raise Unavailable(str(exc), source="Rate-limit store (Redis)") from exc

    def _reserve(self, take: bool, keep: int = 0) -> float:
        return float(self._run(self._reserve_script, self.rate, self.burst, int(take), keep))

    def _penalise(self, seconds: float) -> None:
        self._run(self._penalise_script, seconds, self.rate, self.burst)
