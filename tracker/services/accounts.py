"""Accounts: registration, password checks and changes, and the demo user."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.models import User
from tracker.services import sessions
from tracker.services.errors import Conflict, Unauthorized, invalid

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo1234"


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
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        db.session.commit()
    return user


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
    return sessions.end_all(user.id, keep=keep_session_id)  # commits both


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
