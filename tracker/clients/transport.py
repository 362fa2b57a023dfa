"""HTTP plumbing shared by the clients: budget, timeouts, retries, rate-limit answers.

``Transport.send`` returns a response whose status is below 500 and not 429;
each client then reads its API's own error bodies. Everything that a retry may
cure (network errors, timeouts, 5xx) is retried here with exponential backoff
and jitter; a 429 is never retried in-line, it penalises the shared budget and
raises ``RateLimited`` so the caller can schedule the work for later.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from tracker import metrics
from tracker.clients.errors import RateLimited, Unavailable
from tracker.clients.ratelimit import RequestBudget

Timeout = float | tuple[float, float]

# AniList closes the door for a minute after a 429; assume the same when unsaid.
DEFAULT_RETRY_AFTER = 60.0

# Failures a second attempt may cure; anything else from requests is a local bug.
_RETRYABLE = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)

DEFAULT_USER_AGENT = "Tracker/0.1 (+self-hosted)"

log = logging.getLogger(__name__)


class Transport:
    """One remote API's connection: session, budget, timeouts and retry policy."""

    def __init__(
        self,
        *,
        source: str,
        session: requests.Session | None,
        budget: RequestBudget,
        timeout: Timeout,
        interactive_timeout: Timeout,
        retries: int,
        backoff_base: float,
        backoff_max: float,
        budget_wait: float,
        sleep: Callable[[float], Any],
        user_agent: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.session = session or requests.Session()
        self.budget = budget
        self.timeout = timeout
        self.interactive_timeout = interactive_timeout
        self.retries = max(0, retries)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.budget_wait = budget_wait
        self.sleep = sleep
        self.user_agent = user_agent
        self.clock = clock

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        interactive: bool = False,
        keep: int = 0,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one logical request; ``interactive`` means one quick attempt, never a wait.
        ``keep``: requests of the budget this one must leave for others."""
        attempts = 1 if interactive else self.retries + 1
        timeout = self.interactive_timeout if interactive else self.timeout
        all_headers = {"User-Agent": self.user_agent, **(headers or {})}
        failure: Unavailable | None = None
        for attempt in range(attempts):
            if attempt:
                self.sleep(self.backoff(attempt - 1))
            self._take_budget(interactive, keep)
            started = time.perf_counter()
            try:
                response = self.session.request(
                    method, url, headers=all_headers, timeout=timeout, **kwargs
                )
            except _RETRYABLE as exc:
                self._count(_outcome_of(exc), started)
                self._log(method, url, started, attempt, error=_describe(exc))
                failure = Unavailable(_describe(exc), source=self.source)
                failure.__cause__ = exc
                continue
            except requests.RequestException as exc:
                self._count(metrics.NETWORK_ERROR, started)
                self._log(method, url, started, attempt, error=_describe(exc))
                raise Unavailable(_describe(exc), source=self.source) from exc
            self._count(metrics.remote_outcome(response.status_code), started)
            self._log(method, url, started, attempt, status=response.status_code)
            if response.status_code == 429:
                retry_after = retry_after_from(response.headers, now=self.clock())
                self.budget.penalise(retry_after)
                raise RateLimited(retry_after, "HTTP 429", source=self.source, status=429)
            if response.status_code < 500:
                return response
            failure = Unavailable(
                f"HTTP {response.status_code}", source=self.source, status=response.status_code
            )
        assert failure is not None
        raise failure

    def _log(self, method: str, url: str, started: float, attempt: int, *,
             status: int | None = None, error: str | None = None) -> None:  # fmt: skip
        """One line per attempt: where (the URL without its query), how it ended, how
        long it took. Never a header or a body: they carry the tokens."""
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        where = url.split("?", 1)[0]
        outcome = status if error is None else error
        fields = {"source": self.source, "method": method, "url": where, "status": status,
                  "error": error, "duration_ms": duration_ms, "attempt": attempt + 1}  # fmt: skip
        troubled = error is not None or status is None or status >= 500 or status == 429
        level = logging.WARNING if troubled else logging.INFO
        log.log(level, "%s %s %s -> %s in %s ms", self.source, method, where, outcome,
                duration_ms, extra=fields)  # fmt: skip

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt + 1``: exponential, with jitter so that
        several workers that failed together do not come back together."""
        ceiling = min(self.backoff_max, self.backoff_base * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _take_budget(self, interactive: bool, keep: int = 0) -> None:
        # Someone typing never waits; background work waits a little, then gives up
        # so that a worker can reschedule instead of holding a thread.
        if not self.budget.acquire(block=not interactive, timeout=self.budget_wait, keep=keep):
            metrics.record_budget_refusal(self.source)
            wait = self.budget.seconds_until_free()
            raise RateLimited(max(wait, 1.0), "request budget spent", source=self.source)

    def _count(self, outcome: str, started: float) -> None:
        metrics.record_remote(self.source, outcome, time.perf_counter() - started)


def retry_after_from(headers: Mapping[str, str], *, now: float) -> float:
    """Seconds to wait after a 429, from whichever header the API sent."""
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    # AniList's X-RateLimit-Reset and MangaDex's X-RateLimit-Retry-After are unix times.
    for name in ("X-RateLimit-Reset", "X-RateLimit-Retry-After"):
        try:
            return max(0.0, float(headers[name]) - now)
        except (KeyError, ValueError):
            continue
    return DEFAULT_RETRY_AFTER


def _outcome_of(exc: requests.RequestException) -> str:
    # A connect timeout is both a Timeout and a ConnectionError: it counts as a timeout.
    return metrics.TIMEOUT if isinstance(exc, requests.Timeout) else metrics.NETWORK_ERROR


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__


class RemoteClient:
    """Base of the clients: the options every remote source takes, turned into a Transport.

    ``budget`` should be the deployment-wide one (Redis or database); without it
    each client makes its own per-process ``default_budget()``. ``timeout`` is
    (connect, read) seconds for background calls, ``interactive_timeout`` for
    calls made while someone waits (autocomplete). Failures a retry may cure
    are retried ``retries`` times, sleeping ``backoff_base * 2**n`` seconds
    (jittered, at most ``backoff_max``) through ``sleep``. A background call
    waits at most ``budget_wait`` seconds for the budget, then raises
    ``RateLimited``.
    """

    source = "remote"

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        budget: RequestBudget | None = None,
        timeout: Timeout = (3.05, 10),
        interactive_timeout: Timeout = (2, 3),
        retries: int = 2,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        budget_wait: float = 10.0,
        sleep: Callable[[float], Any] = time.sleep,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.url = url
        self.transport = Transport(
            source=self.source,
            session=session,
            budget=budget if budget is not None else self.default_budget(),
            timeout=timeout,
            interactive_timeout=interactive_timeout,
            retries=retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            budget_wait=budget_wait,
            sleep=sleep,
            user_agent=user_agent,
        )

    def default_budget(self) -> RequestBudget:
        raise NotImplementedError
