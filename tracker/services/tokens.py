"""Personal API tokens: long-lived bearer credentials for scripts, one per purpose.

A token is shown once, when it is made; the database keeps only its SHA-256 (a token
is 256 random bits, so a fast hash is enough: there is nothing to guess) and its first
characters, so a person can tell their tokens apart. A token works wherever a JWT
does, until it is revoked or expires or its account is disabled. A password change
leaves tokens working (they are not the password), and the settings page says so.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update

from tracker.extensions import db
from tracker.models import ApiToken, User, utcnow
from tracker.services.errors import NotFound, invalid
from tracker.services.sessions import USER_COLUMNS, user_from_row

# Every personal token starts with this, so the API can tell one from a JWT at a glance
# (and so can secret scanners).
TOKEN_PREFIX = "trk_"
# What ``create`` makes: the prefix and 32 random bytes, URL-safe base64. Anything else
# is refused before it reaches the database.
TOKEN_PATTERN = re.compile(rf"{TOKEN_PREFIX}[A-Za-z0-9_-]{{43}}")
# How much of the token the list shows: the prefix and 8 random characters.
SHOWN_CHARACTERS = len(TOKEN_PREFIX) + 8
# How stale "last used" may get before a call writes it again: a write per call would
# cost every script request a statement and a commit.
LAST_USED_EVERY = timedelta(minutes=1)
# The expiries the settings page offers, in days (None: never).
EXPIRY_CHOICES: dict[str, int | None] = {"30": 30, "90": 90, "365": 365, "never": None}


def hash_of(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create(user_id: int, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user_id``, committed: the row and the plaintext, shown this once."""
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise invalid("expires_at", "Choose a time in the future, or none.")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=hash_of(plaintext),
        prefix=plaintext[:SHOWN_CHARACTERS],
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.commit()
    return token, plaintext


def expiry_in(choice: str) -> datetime | None:
    """When a token made now with the page's expiry ``choice`` (a key of EXPIRY_CHOICES) ends."""
    days = EXPIRY_CHOICES[choice]
    return None if days is None else utcnow() + timedelta(days=days)


def listed(user_id: int) -> list[ApiToken]:
    """The user's tokens not revoked (expired ones too, so a failing script is explained),
    newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke(user_id: int, token_id: int) -> str:
    """Revoke one of the user's tokens; returns its name. Another user's, an unknown or a
    revoked one is a 404."""
    revoked = db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .returning(ApiToken.name)
    ).first()
    if revoked is None:
        db.session.rollback()
        raise NotFound("No such API token (already revoked?).")
    db.session.commit()
    return revoked.name


def authenticate(plaintext: str) -> User | None:
    """The user a live token belongs to, in one statement (the user lookup itself), or
    None for a revoked, expired or unknown token, or one whose account is disabled."""
    if not TOKEN_PATTERN.fullmatch(plaintext):
        return None
    now = utcnow()
    found = (
        db.session.connection()
        .execute(_lookup_statement(), {"hash": hash_of(plaintext), "now": now})
        .first()
    )
    if found is None:
        return None
    user, (token_id, last_used_at) = user_from_row(found), found[-2:]
    user.session_id = None  # a personal token is no session
    user.api_token_id = token_id
    if last_used_at is None or now - last_used_at > LAST_USED_EVERY:
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        db.session.commit()
    return user


@functools.cache
def _lookup_statement():
    """Built once, its values bound at execution: every script call runs it (as the
    session lookup does for a JWT)."""
    now = bindparam("now", type_=ApiToken.expires_at.type)
    return (
        select(*USER_COLUMNS, ApiToken.id, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == bindparam("hash"),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            User.disabled_at.is_(None),
        )
    )
