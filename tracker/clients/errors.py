"""Typed errors raised by the remote clients.

Callers decide what to do from the type alone: ``RateLimited`` → try again after
``retry_after`` seconds; ``Unavailable`` → retry later; ``Unauthorized`` → the
user must authorise again (never retried); ``BadResponse`` / ``NotFound`` →
retrying will not help. ``message`` is short and safe to show to a user; ``str()``
adds the technical detail for logs.
"""

from __future__ import annotations

import math


class ClientError(Exception):
    """Base class: something went wrong talking to a remote source."""

    summary = "{source} request failed"

    def __init__(
        self, detail: str | None = None, *, source: str = "AniList", status: int | None = None
    ) -> None:
        self.detail = detail
        self.source = source
        self.status = status  # HTTP status when there was one
        super().__init__(str(self))

    @property
    def message(self) -> str:
        return self.summary.format(source=self.source)

    def __str__(self) -> str:
        return f"{self.message}: {self.detail}" if self.detail else self.message


class RateLimited(ClientError):
    """Over the request budget, locally or at the remote (HTTP 429)."""

    summary = "{source} rate limit reached"

    def __init__(
        self,
        retry_after: float,
        detail: str | None = None,
        *,
        source: str = "AniList",
        status: int | None = None,
    ) -> None:
        self.retry_after = max(0.0, float(retry_after))
        super().__init__(detail, source=source, status=status)

    @property
    def message(self) -> str:
        return f"{super().message}; try again in {math.ceil(self.retry_after)} s"


class Unauthorized(ClientError):
    """The token is missing, expired or revoked: the account needs re-authorisation."""

    summary = "{source} authorisation expired; connect again"


class Unavailable(ClientError):
    """Network error, timeout, 5xx, or the API is switched off (AniList 403)."""

    summary = "{source} unreachable"


class BadResponse(ClientError):
    """The answer was not what the API promises (not JSON, missing fields, GraphQL errors)."""

    summary = "{source} sent an unexpected answer"


class NotFound(ClientError):
    """The requested id does not exist (HTTP 404)."""

    summary = "Not found on {source}"
