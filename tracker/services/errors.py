"""Errors a user can cause; the web layer turns them into JSON, fragments or pages."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"
    headers: dict[str, str] = {}  # extra response headers (read only)

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Invalid(ServiceError):
    status = 422
    code = "validation_error"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Throttled(ServiceError):
    """Too many failed attempts: the caller must wait ``retry_after`` seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(f"Too many failed sign-ins; try again in {retry_after} {unit}.")
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


def invalid(field: str, message: str) -> Invalid:
    return Invalid(message, fields={field: [message]})
