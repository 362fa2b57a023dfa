"""Accounts: registration, password checks and changes, the profile, deletion and the demo
user."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from tracker import preferences, scores
from tracker.extensions import db
from tracker.models import PasswordReset, User
from tracker.services import sessions, throttle
from tracker.services.errors import Conflict, NotFound, ServiceError, Unauthorized, invalid

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo1234"


REGISTRATION_CLOSED = "Registration is closed on this server — ask its operator for an account."


class AccountDisabled(ServiceError):
    status = 403
    code = "account_disabled"


class RegistrationClosed(ServiceError):
    status = 403
    code = "registration_closed"


class WrongPassword(ServiceError):
    """The signed-in person's password, asked again before something drastic, is wrong."""

    status = 403
    code = "wrong_password"


@cache
def _hasher(params: tuple[tuple[str, int], ...]) -> PasswordHasher:
    return PasswordHasher(**dict(params))


def _password_hasher() -> PasswordHasher:
    return _hasher(tuple(sorted(current_app.config["PASSWORD_HASH_PARAMS"].items())))


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def register(username: str, password: str) -> User:
    if find_user(username) is not None:
        raise Conflict("That username is taken.", fields={"username": ["That username is taken."]})
    user = User(username=username, password_hash=hash_password(password), preferences={})
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as exc:  # lost a race with another registration
        db.session.rollback()
        raise Conflict(
            "That username is taken.", fields={"username": ["That username is taken."]}
        ) from exc
    return user


def authenticate(username: str, password: str) -> User:
    user = find_user(username)
    hasher = _password_hasher()
    if user is None:
        # Spend the same time as a real check so timing does not reveal usernames.
        hasher.hash(password)
        raise Unauthorized("Wrong username or password.")
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise Unauthorized("Wrong username or password.") from exc
    # Said only to whoever knows the password: a guess learns nothing about the account.
    if user.disabled_at is not None:
        raise AccountDisabled("This account is disabled.")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        db.session.commit()
    return user


def sign_in(username: str, password: str, address: str | None) -> User:
    """``authenticate``, throttled per account and per address (see services.throttle)."""
    keys = throttle.sign_in_keys(username, address)
    return throttle.guard(keys, lambda: authenticate(username, password))


# Set beside a score format copied from the connected AniList account: the person has
# not chosen one, so a later connection may replace it.
SCORE_FORMAT_FROM = "score_format_from"


@dataclass(frozen=True)
class ProfileChange:
    """What a profile edit did: the preferences as they are now, and ``{field: [before,
    after]}`` for each one that moved."""

    user: User
    preferences: preferences.Preferences
    changes: dict[str, list[Any]]


def profile(user: User) -> dict[str, Any]:
    """The account as ``GET /api/auth/me`` shows it: the preferences with their defaults."""
    return {
        "id": user.id,
        "username": user.username,
        "created_at": user.created_at,
        "is_admin": bool(user.is_admin),
        "preferences": user.preferences or {},
        **asdict(preferences.read(user.preferences)),
    }


def update_profile(user_id: int, changes: dict[str, Any]) -> ProfileChange:
    """Change preferences (validated by ``schemas.ProfileSchema``); ``display_name`` None
    clears the name. A chosen score format is the person's from now on."""
    unknown = set(changes) - set(preferences.FIELDS)
    if unknown:
        raise ValueError(f"not a preference: {', '.join(sorted(unknown))}")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    before = preferences.read(user.preferences)
    stored = dict(user.preferences or {})
    for name, value in changes.items():
        if value is None:
            stored.pop(name, None)
        else:
            stored[name] = value
    if "score_format" in changes:
        stored.pop(SCORE_FORMAT_FROM, None)
    after = preferences.read(stored)
    diff = {
        name: [getattr(before, name), getattr(after, name)]
        for name in preferences.FIELDS
        if getattr(before, name) != getattr(after, name)
    }
    if stored != (user.preferences or {}):
        user.preferences = stored  # a new dict: the JSON column sees the change
        db.session.commit()
    return ProfileChange(user, after, diff)


def adopt_score_format(user: User, score_format: str | None) -> None:
    """The connected AniList account's score format, unless the person chose their own;
    left for the caller to commit."""
    stored = dict(user.preferences or {})
    chosen = "score_format" in stored and SCORE_FORMAT_FROM not in stored
    if chosen or score_format not in scores.FORMATS:
        return
    stored.update({"score_format": score_format, SCORE_FORMAT_FROM: "anilist"})
    user.preferences = stored


def change_password(user: User, current: str, new: str, keep_session_id: str | None) -> int:
    """Set ``user``'s password to ``new`` (already checked against the registration rules)
    once ``current`` proves it is them, and end every other browser session and JWT:
    whoever may have had the old password is out. ``keep_session_id`` (the session the
    change came through) stays. Personal API tokens keep working; they are listed for
    the person to revoke. Returns how many sessions were ended; refused, nothing changes."""
    if not _matches(user.password_hash, current):
        raise invalid("current_password", "That is not your current password.")
    if new == current:
        raise invalid("new_password", "Choose a password different from the current one.")
    if new.lower() == user.username.lower():
        raise invalid("new_password", "Choose a password that is not your username.")
    db.session.execute(
        update(User).where(User.id == user.id).values(password_hash=hash_password(new))
    )
    void_unused_resets(user.id)  # a link made for the old password must not undo this
    return sessions.end_all(user.id, keep=keep_session_id)  # commits all three


def void_unused_resets(user_id: int) -> None:
    """Kill the user's reset links not used yet (left for the caller to commit): a new
    link replaces them, and a password changed by its owner makes them pointless."""
    db.session.execute(
        delete(PasswordReset).where(
            PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None)
        )
    )


def password_changed_message(ended: int) -> str:
    """What to tell the person after ``change_password`` ended ``ended`` other sessions."""
    logged_out = f"; logged out {ended} other session{'' if ended == 1 else 's'}" if ended else ""
    return (
        f"Password changed{logged_out}. Your personal API tokens still work: check the list "
        "and revoke any you do not recognise."
    )


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def ensure_demo_user() -> User:
    user = find_user(DEMO_USERNAME)
    if user is None:
        user = register(DEMO_USERNAME, DEMO_PASSWORD)
    return user


def check_registration_open() -> None:
    """Sign-up by the page or the API; operators' ``create-user`` does not ask."""
    if not current_app.config["REGISTRATION_OPEN"]:
        raise RegistrationClosed(REGISTRATION_CLOSED)


def delete_account(user: User, password: str) -> dict[str, int]:
    """Remove the account and everything that is only its own, once its password is
    given again; returns how many rows each table lost. The shared catalogue stays, and
    AniList is not called: the person's AniList list is theirs and stays as it is.

    Every table with a ``user_id`` is emptied of the account's rows by name, children
    before parents, so nothing depends on the database's cascades (SQLite enforces
    foreign keys only when asked) and a table added later is covered too."""
    try:
        _password_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise WrongPassword("Wrong password; nothing was deleted.") from exc
    removed: dict[str, int] = {}
    for table in reversed(db.metadata.sorted_tables):
        if "user_id" in table.c and table.name != User.__tablename__:
            count = db.session.execute(delete(table).where(table.c.user_id == user.id)).rowcount
            if count:
                removed[table.name] = count
    db.session.execute(delete(User).where(User.id == user.id))
    db.session.commit()
    return removed
