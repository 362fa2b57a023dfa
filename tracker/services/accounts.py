"""Accounts: registration, password checks and the demo user."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.models import User
from tracker.services import throttle
from tracker.services.errors import Conflict, Unauthorized

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


def sign_in(username: str, password: str, address: str | None) -> User:
    """``authenticate``, throttled per account and per address (see services.throttle)."""
    keys = throttle.sign_in_keys(username, address)
    return throttle.guard(keys, lambda: authenticate(username, password))


def ensure_demo_user() -> User:
    user = find_user(DEMO_USERNAME)
    if user is None:
        user = register(DEMO_USERNAME, DEMO_PASSWORD)
    return user
