"""Who is calling the API: a bearer JWT or personal API token, or the browser's session
plus its CSRF token."""

from __future__ import annotations

import time
from functools import wraps

from flask import current_app, g, request
from flask_jwt_extended import (
    create_access_token,
    get_current_user,
    get_jwt,
    verify_jwt_in_request,
)
from flask_login import current_user

from tracker.extensions import csrf, jwt
from tracker.models import Origin, User
from tracker.services import sessions, tokens
from tracker.services.errors import Unauthorized

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InvalidToken(Unauthorized):
    """A bearer credential that lets nobody in: answered like a bad JWT."""

    code = "invalid_token"


def authenticate() -> None:
    """Resolve the caller into ``g.user`` and ``g.origin``, or raise a 401.

    Returns nothing so that it can serve as a ``before_request`` hook. ``OPTIONS`` only
    asks which methods a path allows: Flask answers it without calling a view, so it
    needs no caller (a browser's CORS preflight never carries credentials)."""
    if request.method == "OPTIONS":
        return
    if personal_token := _personal_token():
        user = tokens.authenticate(personal_token)
        if user is None:
            raise InvalidToken("The token is unknown, revoked or expired.")
    elif authorization := request.headers.get("Authorization"):
        user = _known_jwt_user(authorization)
        if user is None:
            verify_jwt_in_request()
            user = get_current_user()
            _remember_jwt(authorization, get_jwt())
    elif current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            csrf.protect()
        user = current_user._get_current_object()
    else:
        raise Unauthorized("Log in, or send a bearer token from POST /api/auth/token.")
    g.user, g.origin = user, Origin.API


# Bearer JWTs whose signature this process has checked, by the whole Authorization
# header: a script or the search box sends the same token with every request, and
# decoding it (twice, in Flask-JWT-Extended) costs more than the rest of the lookup.
# Only a token that passed the full check is here; its expiry is checked again on each
# use and its session looked up as always, and anything else (expired, ended, never
# seen) takes the full path, which answers as it always did.
KNOWN_JWTS = 10_000


def _known_jwt_user(authorization: str) -> User | None:
    known = current_app.extensions.get("tracker.known_jwts", {}).get(authorization)
    if known is None or known["exp"] <= time.time() + 1:
        return None
    return sessions.load_user(sessions.Identity.parse(f"{known['sub']}:{known['sid']}"))


def _remember_jwt(authorization: str, payload: dict) -> None:
    known = current_app.extensions.setdefault("tracker.known_jwts", {})
    if len(known) >= KNOWN_JWTS:
        known.clear()  # tokens live a day: a full memo is mostly expired ones
    if isinstance(payload.get("exp"), int | float) and payload.get("type") == "access":
        known[authorization] = {"exp": payload["exp"], "sub": payload.get("sub"),
                                "sid": payload.get("sid")}  # fmt: skip


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        authenticate()
        return view(*args, **kwargs)

    return wrapper


def current_session_id() -> str | None:
    """The session the caller came in through: the JWT's or the browser's."""
    user = g.get("user")
    return user.session_id if user is not None else None


def current_api_token_id() -> int | None:
    """The personal API token the caller came in with, if that is how they came."""
    user = g.get("user")
    return getattr(user, "api_token_id", None) if user is not None else None


def _personal_token() -> str | None:
    """``Bearer trk_…`` names a personal API token; any other bearer is a JWT."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.startswith(tokens.TOKEN_PREFIX):
        return credentials
    return None


def issue_token(user: User) -> str:
    """A bearer JWT that names a session of its own, so it can be ended on its own."""
    sessions.start(user, sessions.JWT)
    return create_access_token(identity=user, additional_claims={"sid": user.session_id})


@jwt.user_identity_loader
def _identity(user: User) -> str:
    return str(user.id)


@jwt.token_in_blocklist_loader
def _ended(_header: dict, payload: dict) -> bool:
    """A JWT whose session has ended (or that names none) is revoked. The lookup is the
    user lookup too: the user found is kept for ``_lookup``."""
    identity = sessions.Identity.parse(f"{payload.get('sub')}:{payload.get('sid')}")
    g.jwt_user = sessions.load_user(identity)
    return g.jwt_user is None


@jwt.user_lookup_loader
def _lookup(_header: dict, _payload: dict) -> User | None:
    return g.get("jwt_user")
