"""Ways in that a person can see and end: browser logins and bearer JWTs, each a row.

The browser's cookie (and its remember-me cookie) and every JWT name their row by a
random id. Whoever presents one is let in only while that row is live: not ended, not
expired, and its account not disabled. So logging out, "log out everywhere", a
password change or disabling an account end a copied cookie or token at once, in
every process, with no list of revoked tokens to keep.

Checking the row costs nothing extra: it is joined to the user lookup every request
makes anyway.
"""

from __future__ import annotations

import functools
import re
import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm.base import manager_of_class

from tracker.extensions import db
from tracker.models import User, UserSession, utcnow
from tracker.routing import MAX_ID
from tracker.services.errors import NotFound

BROWSER = "browser"
JWT = "jwt"
# How stale "last seen" may get before a request writes it again: a write per request
# would cost every click a statement and a commit.
LAST_SEEN_EVERY = timedelta(minutes=5)
# A browser session lives as long as its remember-me cookie could.
DEFAULT_BROWSER_LIFETIME = timedelta(days=30)
# What ``start`` makes: 32 random bytes, URL-safe base64. Anything else names no session
# (and never reaches the database: PostgreSQL refuses a NUL in a string).
_IDENTITY = re.compile(r"(\d{1,10}):([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class Identity:
    """What a cookie or a JWT names: a user and one of their sessions."""

    user_id: int
    session_id: str

    def __str__(self) -> str:
        return f"{self.user_id}:{self.session_id}"

    @classmethod
    def parse(cls, value: object) -> Identity | None:
        """``"<user id>:<session id>"``, or None for anything else (old cookies too)."""
        match = _IDENTITY.fullmatch(str(value))
        if match is None or not 0 < int(match[1]) <= MAX_ID:
            return None
        return cls(int(match[1]), match[2])


def start(user: User, kind: str, lifetime: timedelta | None = None) -> UserSession:
    """A new live session for ``user``, committed; its id goes into the cookie or token."""
    now = utcnow()
    if lifetime is None:
        lifetime = _lifetime(kind)
    row = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        kind=kind,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        **_client(),
    )
    db.session.add(row)
    db.session.commit()
    user.session_id = row.id
    return row


def load_user(identity: Identity | None) -> User | None:
    """The user behind a live session, in one statement (the user lookup itself)."""
    if identity is None:
        return None
    now = utcnow()
    found = (
        db.session.connection()
        .execute(
            _lookup_statement(),
            {"user": identity.user_id, "session": identity.session_id, "now": now},
        )
        .first()
    )
    if found is None:
        return None
    user, last_seen_at = user_from_row(found), found[-1]
    user.session_id = identity.session_id
    if now - last_seen_at > LAST_SEEN_EVERY:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == identity.session_id)
            .values(last_seen_at=now)
        )
        db.session.commit()
    return user


def user_from_row(row) -> User:
    """The user from a row that starts with ``USER_COLUMNS``, built outside the session
    (as ``library._item_from_row`` builds an item): no ORM load on the way in, and a
    commit later in the request neither expires it nor reads it again. Services change
    users by id, in statements of their own, never through this object."""
    user = _blank_user()
    user.__dict__.update(zip(_USER_KEYS, row, strict=False))
    return user


USER_COLUMNS = (*User.__table__.c, User.anilist_linked.expression.label("anilist_linked"))
_USER_KEYS = (*(column.key for column in User.__table__.c), "anilist_linked")
_blank_user = manager_of_class(User).new_instance


@functools.cache
def _lookup_statement():
    """Built once, its values bound at execution: every request runs it."""
    return (
        select(*USER_COLUMNS, UserSession.last_seen_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == bindparam("user"),
            UserSession.id == bindparam("session"),
            *_live(bindparam("now", type_=UserSession.expires_at.type)),
        )
    )


def active(user_id: int) -> list[UserSession]:
    """The user's live sessions, the most recently used first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.user_id == user_id, *_live(utcnow()))
            .order_by(UserSession.last_seen_at.desc(), UserSession.created_at.desc())
        )
    )


def end(user_id: int, session_id: str) -> None:
    """End one of the user's sessions; another user's, an ended one or an id no session
    could have (which never reaches the database) is a 404."""
    if Identity.parse(f"{user_id}:{session_id}") is None:
        raise NotFound("No such session (already ended?).")
    ended = db.session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .returning(UserSession.id)
    ).first()
    if ended is None:
        db.session.rollback()
        raise NotFound("No such session (already ended?).")
    db.session.commit()


def end_quietly(user_id: int, session_id: str) -> None:
    """End the session a request came in through; one ended already is fine."""
    with suppress(NotFound):  # in another tab, or by "log out everywhere"
        end(user_id, session_id)


def end_all(user_id: int, keep: str | None = None) -> int:
    """End every live session of the user but ``keep``; returns how many ended."""
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    count = db.session.execute(statement).rowcount
    db.session.commit()
    return count


def _live(now):
    return (
        UserSession.revoked_at.is_(None),
        or_(UserSession.expires_at.is_(None), UserSession.expires_at > now),
        User.disabled_at.is_(None),
    )


def _lifetime(kind: str) -> timedelta:
    config = current_app.config
    if kind == JWT:
        return config["JWT_ACCESS_TOKEN_EXPIRES"]
    lifetime = config.get("REMEMBER_COOKIE_DURATION") or DEFAULT_BROWSER_LIFETIME
    return lifetime if isinstance(lifetime, timedelta) else timedelta(seconds=lifetime)


def _client() -> dict[str, str | None]:
    """Where a session was started from, so the person can tell their sessions apart."""
    if not has_request_context():
        return {"user_agent": None, "address": None}
    agent = request.user_agent.string.replace("\x00", "")[:255] or None
    return {"user_agent": agent, "address": (request.remote_addr or "")[:64] or None}
