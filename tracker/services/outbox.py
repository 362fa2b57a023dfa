"""The sync outbox: local changes waiting to be pushed to AniList.

A change writes or updates the item's row in the same transaction as the change
itself, so a change is never lost between the two. At most one row per item:
later edits coalesce into it, and the worker sends the item as it is then.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, func, null, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker.extensions import db
from tracker.logs import current_request_id
from tracker.models import AniListAccount, LibraryItem, SyncOutbox, utcnow

# Set when a change is queued, so an in-process worker can push it at once.
changes_waiting = threading.Event()


def note_change(item: LibraryItem, kind: str, *, linked: bool | None = None) -> bool:
    """Queue a push for a change to ``item`` (``kind``: created, updated or deleted);
    returns whether one was.

    ``linked`` is whether the owner has linked AniList, when the caller knows it from
    the user row (``User.anilist_linked``); otherwise it is looked up here."""
    if item.media is None or item.media.anilist_id is None:
        return False
    if linked is None:
        linked = db.session.scalar(select(exists().where(AniListAccount.user_id == item.user_id)))
    if not linked:
        return False
    op = "delete" if kind == "deleted" else "save"
    # An edit also lifts a quarantine: the item is sent again as it is now.
    values = {"op": op, "now": utcnow(), "anilist_media_id": item.media.anilist_id,
              "anilist_entry_id": item.anilist_entry_id,
              "request_id": current_request_id()}  # fmt: skip
    if op == "delete" and item.anilist_entry_id is None:
        # Never confirmed on AniList: only a push already queued (maybe in flight) matters.
        db.session.execute(_requeue_statement(), {**values, "item": item.id})
    else:
        # One statement, so two simultaneous edits of one item cannot both insert.
        statement = _upsert_statement(db.engine.dialect.name, item.anilist_entry_id is not None)
        db.session.execute(statement, {**values, "user_id": item.user_id, "item_id": item.id})
    changes_waiting.set()
    return True


# What a change sets on its item's row; ``anilist_entry_id`` only once it is known.
def _queued_values(with_entry: bool) -> dict:
    values = {"op": bindparam("op"), "updated_at": bindparam("now"),
              "anilist_media_id": bindparam("anilist_media_id"),
              "failed_at": null(), "last_error": null(),
              "request_id": bindparam("request_id")}  # fmt: skip
    if with_entry:
        values["anilist_entry_id"] = bindparam("anilist_entry_id")
    return values


@functools.cache
def _requeue_statement():
    table = SyncOutbox.__table__
    return update(table).where(table.c.item_id == bindparam("item")).values(_queued_values(False))


@functools.cache
def _upsert_statement(dialect: str, with_entry: bool):
    """Built once per shape, its values bound at execution: building and keying it
    cost more than running it."""
    table = SyncOutbox.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    values = _queued_values(with_entry)
    now = bindparam("now")
    statement = insert.values(
        user_id=bindparam("user_id"), item_id=bindparam("item_id"), attempts=0,
        next_attempt_at=now, created_at=now, **values,
    )  # fmt: skip
    return statement.on_conflict_do_update(
        index_elements=["item_id"], set_={name: statement.excluded[name] for name in values}
    )


@dataclass(frozen=True)
class Waiting:
    pending: int  # changes not yet on AniList
    failed: int  # of which the last try failed
    last_error: str | None  # the reason of the latest failure


def waiting(user_id: int) -> Waiting:
    """The user's changes waiting for AniList, and why the latest failed one did."""
    mine = SyncOutbox.user_id == user_id
    pending, failed = db.session.execute(
        select(func.count(), func.count(SyncOutbox.last_error)).where(mine)
    ).one()
    last_error = db.session.scalar(
        select(SyncOutbox.last_error)
        .where(mine, SyncOutbox.last_error.is_not(None))
        .order_by(SyncOutbox.updated_at.desc(), SyncOutbox.id.desc())
        .limit(1)
    )
    return Waiting(pending, failed, last_error)
