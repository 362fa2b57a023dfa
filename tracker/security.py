"""Response headers that make the pages safe to run, and JSON answers for token errors."""

from __future__ import annotations

from flask import Response
from flask_jwt_extended import JWTManager

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


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    return response


def register_jwt_errors(jwt: JWTManager) -> None:
    def unauthorized(message: str) -> Response:
        return json_error(401, message, code="invalid_token")

    jwt.unauthorized_loader(lambda reason: unauthorized(f"Missing or malformed token: {reason}"))
    jwt.invalid_token_loader(lambda reason: unauthorized(f"Invalid token: {reason}"))
    jwt.expired_token_loader(lambda _h, _p: unauthorized("The token has expired."))
    jwt.revoked_token_loader(lambda _h, _p: unauthorized("The token has been revoked."))
    jwt.user_lookup_error_loader(lambda _h, _p: unauthorized("The token's user no longer exists."))
