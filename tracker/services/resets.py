"""Password resets without e-mail: an operator makes a one-time link and hands it over.

The link carries 32 random bytes; only their SHA-256 is stored, so a copy of the
database resets nobody's password. A link works once, for 30 minutes, and a newer
link for the same person voids the older ones. Using it ends every session and token
of the account, as a password change should.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from tracker.extensions import db
from tracker.models import PasswordReset, User, utcnow
from tracker.services import sessions
from tracker.services.accounts import hash_password, void_unused_resets
from tracker.services.errors import ServiceError, invalid

LIFETIME = timedelta(minutes=30)
# What ``create_reset`` makes; anything else is refused before it reaches the database
# (PostgreSQL refuses a NUL in a string, and a 10 kB path should cost nothing).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
ASK_AGAIN = "Ask the server's operator for a new link."


class ResetLinkUnknown(ServiceError):
    status = 404
    code = "reset_link_unknown"


class ResetLinkSpent(ServiceError):
    """Expired or used: the link existed, but it no longer resets anything."""

    status = 400
    code = "reset_link_spent"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_reset(user_id: int) -> str:
    """A new reset link's token (shown once, never stored); earlier unused links die."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    void_unused_resets(user_id)
    db.session.add(
        PasswordReset(
            user_id=user_id, token_hash=_digest(token), created_at=now, expires_at=now + LIFETIME
        )
    )
    db.session.commit()
    return token


def user_for(token: str) -> User:
    """The person a live link resets the password of; otherwise why it does not work."""
    reset = _find(token)
    _check_live(reset)
    return db.session.get(User, reset.user_id)


def reset_password(token: str, new_password: str) -> User:
    """Use the link: the password changes and every session and token of the account
    ends, all in one transaction. The link is claimed by a single conditional UPDATE,
    so two tabs posting at once cannot both use it."""
    user = user_for(token)
    if new_password.casefold() == user.username.casefold():
        raise invalid("password", "The password may not be your username.")
    now = utcnow()
    claimed = db.session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.token_hash == _digest(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
        .returning(PasswordReset.user_id)
    ).first()
    if claimed is None:  # used in another tab a moment ago
        db.session.rollback()
        raise ResetLinkSpent(f"This reset link has been used already. {ASK_AGAIN}")
    user.password_hash = hash_password(new_password)
    sessions.end_all(user.id)  # commits the claim and the new password with it
    return user


def _find(token: str) -> PasswordReset:
    reset = None
    if _TOKEN.fullmatch(token):
        reset = db.session.scalar(
            select(PasswordReset).where(PasswordReset.token_hash == _digest(token))
        )
    if reset is None:
        raise ResetLinkUnknown(
            "This reset link is not valid: it may be mistyped, or a newer link replaced it. "
            + ASK_AGAIN
        )
    return reset


def _check_live(reset: PasswordReset) -> None:
    if reset.used_at is not None:
        raise ResetLinkSpent(f"This reset link has been used already. {ASK_AGAIN}")
    if reset.expires_at <= utcnow():
        raise ResetLinkSpent(f"This reset link has expired (links last 30 minutes). {ASK_AGAIN}")
