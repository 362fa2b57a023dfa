"""Who is calling the API: a bearer JWT, or the browser's session plus its CSRF token."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_jwt_extended import get_current_user, verify_jwt_in_request
from flask_login import current_user

from tracker.extensions import csrf, db, jwt
from tracker.models import Origin, User
from tracker.services.errors import Unauthorized

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def authenticate() -> None:
    """Resolve the caller into ``g.user`` and ``g.origin``, or raise a 401.

    Returns nothing so that it can serve as a ``before_request`` hook. ``OPTIONS`` only
    asks which methods a path allows: Flask answers it without calling a view, so it
    needs no caller (a browser's CORS preflight never carries credentials)."""
    if request.method == "OPTIONS":
        return
    if request.headers.get("Authorization"):
        verify_jwt_in_request()
        user = get_current_user()
    elif current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            csrf.protect()
        user = current_user._get_current_object()
    else:
        raise Unauthorized("Log in, or send a bearer token from POST /api/auth/token.")
    g.user, g.origin = user, Origin.API


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        authenticate()
        return view(*args, **kwargs)

    return wrapper


@jwt.user_identity_loader
def _identity(user: User) -> str:
    return str(user.id)


@jwt.user_lookup_loader
def _lookup(_header: dict, payload: dict) -> User | None:
    try:
        return db.session.get(User, int(payload["sub"]))
    except (TypeError, ValueError):
        return None
