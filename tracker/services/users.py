"""Looking after accounts, for operators (``flask tracker …``) and admins (the users page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import LibraryItem, User, UserSession, utcnow
from tracker.services import accounts, sessions
from tracker.services.errors import Conflict, NotFound


@dataclass(frozen=True)
class UserRow:
    """One line of the users list."""

    id: int
    username: str
    is_admin: bool
    disabled_at: datetime | None
    created_at: datetime
    items: int
    last_seen_at: datetime | None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


def _rows(*where) -> list[UserRow]:
    items = (
        select(func.count(LibraryItem.id))
        .where(LibraryItem.user_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    last_seen = (
        select(func.max(UserSession.last_seen_at))
        .where(UserSession.user_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    statement = select(
        User.id, User.username, User.is_admin, User.disabled_at, User.created_at,
        items.label("items"), last_seen.label("last_seen_at"),
    ).where(*where).order_by(User.id)  # fmt: skip
    return [UserRow(*row) for row in db.session.execute(statement)]


def list_users() -> list[UserRow]:
    """Every account with its item count and last sign of life, in one statement."""
    return _rows()


def row(user_id: int) -> UserRow:
    found = _rows(User.id == user_id)
    if not found:
        raise NotFound("No such user.")
    return found[0]


def get(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def by_name(username: str) -> User:
    user = accounts.find_user(username) if "\x00" not in username else None
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user


def set_disabled(user: User, disabled: bool, *, by: User | None = None) -> bool:
    """Disable or enable an account; returns whether anything changed. Disabling ends
    every session and token at once. ``by``, an admin on the users page, may not
    disable themself (they would lock themself out of the page that undoes it)."""
    if disabled and by is not None and by.id == user.id:
        raise Conflict("You cannot disable your own account.")
    if (user.disabled_at is not None) == disabled:
        return False
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        sessions.end_all(user.id)  # commits the flag with it
    else:
        db.session.commit()
    return True


def set_admin(user: User, admin: bool) -> bool:
    """Grant or revoke the admin flag; returns whether anything changed."""
    if user.is_admin == admin:
        return False
    user.is_admin = admin
    db.session.commit()
    return True
