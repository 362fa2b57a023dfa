"""Logs: one line per record, as text or JSON lines (TRACKER_LOG_FORMAT), each carrying
the id of the request it belongs to; secrets are cut out before anything is written.

A request's id comes from its ``X-Request-ID`` header when that is a sane value, else
it is made here; it goes back in the response's ``X-Request-ID`` header. Work queued
by a request (a job, a push to AniList) keeps the id, and the worker logs under it
while it does that work (``request_context``), so one id follows a change from the
click to AniList's answer.

Nothing here runs at app creation but the registration of request hooks: the
handler is installed by the process's entry point (``wsgi.py``), once.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, request
from flask.logging import default_handler

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_MAX = 128  # characters; the jobs and sync_outbox columns hold this many
_SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:-]{{1,{REQUEST_ID_MAX}}}")
LOG_FORMATS = ("text", "json")

_request_id: ContextVar[str | None] = ContextVar("tracker_request_id", default=None)

request_log = logging.getLogger("tracker.request")


# --- the request id ----------------------------------------------------------------------


def current_request_id() -> str | None:
    """The id of the request (or of the request whose work the worker is doing)."""
    return _request_id.get()


def valid_request_id(value: str | None) -> str | None:
    """``value`` when it is a request id safe to log and send back, else None."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def request_context(request_id: str | None) -> Iterator[None]:
    """Log under ``request_id`` for the duration (the worker, doing a request's work)."""
    token = _request_id.set(valid_request_id(request_id))
    try:
        yield
    finally:
        _request_id.reset(token)


def init_app(app: Flask) -> None:
    """Give every request an id and log one line when it is answered. Registered
    before any other hook, so even a request refused early has an id."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)


def _start_request() -> None:
    g.request_started = time.perf_counter()
    _request_id.set(valid_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id())


def _finish_request(response: Response) -> Response:
    request_id = current_request_id()
    if request_id is None:  # a hook before ours answered; still give the answer an id
        request_id = new_request_id()
        _request_id.set(request_id)
    response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    # The path without its query string: a callback's query carries an OAuth code.
    fields = {"method": request.method, "path": request.path, "endpoint": request.endpoint,
              "status": response.status_code, "duration_ms": duration_ms}  # fmt: skip
    level = logging.DEBUG if request.endpoint == "static" else logging.INFO
    request_log.log(level, "%s %s %s in %s ms", request.method, request.path,
                    response.status_code, duration_ms, extra=fields)  # fmt: skip
    return response


def _end_request(_error: BaseException | None) -> None:
    _request_id.set(None)


# --- what a line says --------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


_REDACTED = "[redacted]"
# Shapes a secret has wherever it comes from: JWTs (ours and AniList's), personal API
# tokens, Fernet-encrypted tokens, bearer credentials, an OAuth code in a URL, and
# name=value pairs whose name says secret.
_SECRET_SHAPES = [
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), _REDACTED),
    (re.compile(r"trk_[A-Za-z0-9_-]{8,}"), _REDACTED),
    # The calendar feed's secret travels in its path (/calendar/cal_….ics).
    (re.compile(r"cal_[A-Za-z0-9_-]{8,}"), _REDACTED),
    (re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"), _REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {_REDACTED}"),
    (re.compile(r"(?i)([?&](?:code|token|access_token)=)[^&#\s]+"), rf"\1{_REDACTED}"),
    (
        re.compile(
            r"(?i)\b((?:password|passwd|secret|client_secret|token|access_token|refresh_token"
            r"|api_key|authorization|cookie|set-cookie|(?:x-)?csrf_?token)"
            r"""["']?\s*[:=]\s*["']?)([^\s"',;&}]+)"""
        ),
        rf"\1{_REDACTED}",
    ),
]
# Configuration values that are secrets: cut out wherever they appear, whatever shape.
SECRET_SETTINGS = ("SECRET_KEY", "JWT_SECRET_KEY", "ENCRYPTION_KEY", "ANILIST_CLIENT_SECRET",
                   "METRICS_TOKEN")  # fmt: skip


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    for pattern, replacement in _SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


class RedactFilter(logging.Filter):
    """Defence in depth: no code logs a secret on purpose, and this cuts out any that
    slipped into a message, its arguments, a traceback or an extra field."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is cut out whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it when it formats
            return True
        cleaned = redact(message, self.secrets)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        for name, value in _extras(record).items():
            if isinstance(value, str):
                setattr(record, name, redact(value, self.secrets))
        return True


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "request_label"}  # fmt: skip


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then any
    extra fields (a request's method, path, endpoint, status and duration_ms)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name, value in _extras(record).items():
            line.setdefault(name, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger [request id or -] message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_label)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_label = getattr(record, "request_id", None) or "-"
        return super().format(record)


def handler_for(app: Flask, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing ``app``'s lines to ``stream`` (standard error), redacted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    secrets = [str(app.config.get(name) or "") for name in SECRET_SETTINGS]
    handler.addFilter(RedactFilter(secrets))
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    handler.tracker = True  # type: ignore[attr-defined]
    return handler


def configure_logging(app: Flask, stream: IO[str] | None = None) -> logging.Handler:
    """Route every logger's records through one handler as the configuration says: for
    a process's entry point, called once (again replaces the handler, never doubles it)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "tracker", False)]:
        root.removeHandler(old)
    handler = handler_for(app, stream)
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    app.logger.removeHandler(default_handler)  # the root handler has it now
    return handler


def check_config(app: Flask) -> str | None:
    """What is wrong with the logging settings, if anything (for ``load_config``)."""
    if app.config["LOG_FORMAT"] not in LOG_FORMATS:
        return f"TRACKER_LOG_FORMAT must be one of: {', '.join(LOG_FORMATS)}."
    level = app.config["LOG_LEVEL"]
    if not isinstance(level, str) or level.upper() not in logging.getLevelNamesMapping():
        return "TRACKER_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR."
    app.config["LOG_LEVEL"] = level.upper()
    return None


try:  # gunicorn is the production server's, absent where only the app is installed
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = None

if _GunicornLogger is not None:

    class RedactingAccessLogger(_GunicornLogger):
        """gunicorn's logger, its access line's URL parts passed through ``redact``."""

        def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U", "q", "f"):
                if isinstance(atoms.get(key), str):
                    atoms[key] = redact(atoms[key])
            return atoms
