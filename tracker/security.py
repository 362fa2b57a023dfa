"""Limits on what a request may send, response headers that make the pages safe to run,
and JSON answers for token errors."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_jwt_extended import JWTManager
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker.errors import json_error

# Strict: no inline script or style anywhere; cover images may come from any HTTPS host.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# Only a file upload (multipart) may be as large as MAX_CONTENT_LENGTH (TRACKER_UPLOAD_MAX_MB);
# any other body is a form or a JSON document of a few kilobytes.
MAX_DOCUMENT_BYTES = 1024 * 1024


def limit_request_body() -> None:
    """A ``before_request`` hook: a body over its limit answers 413.

    A body with a Content-Length is refused as soon as it is read. A chunked one has
    no length to check, and werkzeug would silently cut it at the limit (a garbled
    body, not a 413), so it is read here, up to one byte past the limit.
    """
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.mimetype != "multipart/form-data":
        limit = min(limit or MAX_DOCUMENT_BYTES, MAX_DOCUMENT_BYTES)
    request.max_content_length = limit
    if limit and request.content_length is None and "wsgi.input_terminated" in request.environ:
        request.max_content_length = limit + 1
        if len(request.get_data(cache=True)) > limit:
            raise RequestEntityTooLarge()


def trust_proxies(app: Flask) -> None:
    """Behind TRACKER_TRUSTED_PROXIES proxies, read the client's address and scheme from
    the headers those proxies set (and from no more hops: the rest a client could forge).
    With none trusted (the default), no forwarded header is believed."""
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint != "static":
        # Pages, fragments and JSON are someone's own data: never kept by a browser or
        # a shared cache (the back button, a proxy). Static files keep their caching, and
        # so does a view that chose its own (the private calendar feed).
        headers.setdefault("Cache-Control", "no-store")
    return response


def register_jwt_errors(jwt: JWTManager) -> None:
    def unauthorized(message: str) -> Response:
        return json_error(401, message, code="invalid_token")

    jwt.unauthorized_loader(lambda reason: unauthorized(f"Missing or malformed token: {reason}"))
    jwt.invalid_token_loader(lambda reason: unauthorized(f"Invalid token: {reason}"))
    jwt.expired_token_loader(lambda _h, _p: unauthorized("The token has expired."))
    jwt.revoked_token_loader(lambda _h, _p: unauthorized("The token has been revoked."))
    jwt.user_lookup_error_loader(lambda _h, _p: unauthorized("The token's user no longer exists."))
