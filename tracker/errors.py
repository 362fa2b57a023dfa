"""One place that decides how an error looks: JSON under /api, a fragment and a toast
for htmx, a page otherwise."""

from __future__ import annotations

from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
)

from tracker.extensions import db, login_manager
from tracker.htmx import current_page, is_htmx, redirect_client, toast
from tracker.services.errors import ServiceError

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


# What the database (or its pool) raises when it cannot be reached or has gone away.
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)
DATABASE_DOWN_MESSAGE = "The database is not answering right now; try again in a moment."
RETRY_AFTER_SECONDS = 10


def wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def json_error(
    status: int, message: str, *, code: str | None = None, fields: dict | None = None
) -> Response:
    body = {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}
    response = jsonify(error=body)
    response.status_code = status
    return response


def error_response(
    status: int, message: str, *, code: str | None = None, fields: dict | None = None
) -> Response:
    if wants_json():
        return json_error(status, message, code=code, fields=fields)
    if status == 401:
        login = url_for("auth.login", next=current_page())
        if is_htmx():
            return redirect_client(make_response("", 401), login)
    if is_htmx():
        fragment = render_template("partials/_error.html", message=message, fields=fields or {})
        return toast(make_response(fragment, status), message, "error")
    heading, message = _page_words(status, message)
    page = render_template(
        "errors/error.html",
        status=status,
        heading=heading,
        message=message,
        current_user=_page_user(),
    )
    return make_response(page, status)


# A page's heading for each status, and what to say in place of werkzeug's stock text.
PAGE_WORDS = {
    400: ("That request was not understood", None),
    403: ("Not allowed", None),
    404: ("Page not found", "There is nothing at this address. The link may be old, or the "
          "item was removed."),
    405: ("That action is not available here", "This address does not answer that kind of "
          "request; go back and use the page's own buttons."),
    413: ("Too large", None),
    422: ("Some of that could not be used", None),
    429: ("Too many tries", None),
    500: ("Something went wrong on our side", "The error has been logged. Try again in a "
          "moment; if it keeps happening, tell whoever runs this Tracker."),
}  # fmt: skip
_STOCK = {404: NotFound.description, 405: MethodNotAllowed.description,
          500: InternalServerError.description}  # fmt: skip


def _page_words(status: int, message: str) -> tuple[str, str]:
    heading, plain = PAGE_WORDS.get(status, ("Something is not right", None))
    if plain and message in (_STOCK.get(status), CODES.get(status)):
        message = plain
    return heading, message


def _page_user():
    """The person the error page's header names: whoever this request already loaded;
    otherwise a lookup, unless the database already failed this request. An error page
    must render whatever state the database is in."""
    if "_login_user" not in g and not g.get("database_down"):
        try:
            current_user._get_current_object()
        except DATABASE_DOWN:
            g.database_down = True
            _discard_session()
    return g.get("_login_user") or login_manager.anonymous_user()


def _discard_session() -> None:
    """Roll back whatever the request began; on a dead connection, let go of it."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.remove()


def _validation_fields(error: HTTPException) -> dict[str, list[str]]:
    """webargs puts messages under their location; callers want ``{field: [...]}``."""
    messages = (getattr(error, "data", None) or {}).get("messages") or {}
    flat: dict[str, list[str]] = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            for field, problems in location_messages.items():
                flat[str(field)] = [str(p) for p in _as_list(problems)]
        else:
            flat.setdefault("_schema", []).extend(str(p) for p in _as_list(location_messages))
    return flat


def _as_list(value) -> list:
    if isinstance(value, dict):  # nested schema errors
        return [f"{k}: {v}" for k, v in value.items()]
    return value if isinstance(value, list) else [value]


def handle_service_error(error: ServiceError) -> Response:
    db.session.rollback()
    response = error_response(error.status, error.message, code=error.code, fields=error.fields)
    response.headers.update(error.headers)
    return response


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    fields = _validation_fields(error)
    if isinstance(error, CSRFError):
        if is_htmx() and not _page_user().is_authenticated:
            # The session (and its CSRF token) expired: send the whole page to log in again.
            return error_response(401, "Your session expired; log in again.")
        return error_response(400, "Your form expired; reload the page.", code="csrf_failed")
    if status == 422 and fields:
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
        return error_response(422, message, fields=fields)
    if status == 400 and fields:
        return error_response(400, "The request body is not valid JSON.", code="invalid_json")
    if status == 413:
        return error_response(413, _too_large_message())
    response = error_response(status, error.description or CODES.get(status, "Error"))
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _too_large_message() -> str:
    if request.mimetype == "multipart/form-data":
        megabytes = current_app.config["UPLOAD_MAX_MB"]
        return (f"The file is larger than the {megabytes} MB this server takes "
                "(TRACKER_UPLOAD_MAX_MB); a MyAnimeList export may be sent gzipped.")  # fmt: skip
    return "The request body is larger than the server accepts (1 MB for a form or JSON)."


def handle_database_down(error: SQLAlchemyError) -> Response:
    """503 in the shape the caller reads, built without the database: the page names
    no user (that would be a lookup), and the session lets go of its connection so
    the pool reconnects once the database is back."""
    current_app.logger.warning("Database unavailable: %s", error)
    g.database_down = True
    _discard_session()
    if wants_json():
        response = json_error(503, DATABASE_DOWN_MESSAGE, code="database_unavailable")
    elif is_htmx():
        response = error_response(503, DATABASE_DOWN_MESSAGE)
    else:
        page = render_template("errors/unavailable.html", message=DATABASE_DOWN_MESSAGE)
        response = make_response(page, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handle_unexpected(error: Exception) -> Response:
    _discard_session()
    if isinstance(error, HTTPException):
        return handle_http_exception(error)

    current_app.logger.exception("Unhandled error", exc_info=error)
    return error_response(500, InternalServerError.description)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ServiceError, handle_service_error)
    for database_down in DATABASE_DOWN:
        app.register_error_handler(database_down, handle_database_down)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
