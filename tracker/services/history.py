"""An item's history, and the sync conflicts in it that a person can settle.

A conflict is an ``item_events`` row of kind ``conflict`` written by the sync service:
``{"winner": "local", "remote": {...}}`` (the change made here was kept; AniList's
values are in ``remote``), ``{"winner": "remote", "local": {...}}`` (AniList's change
was applied; this copy's values are in ``local``), or ``{"remote": "deleted on
AniList", ...}``. When a row also records the winning side's values they are used;
otherwise the winning side is the item as it is now (the value that was kept).

Settling a conflict picks a side. Picking the side that lost applies its values as an
ordinary edit (so it is pushed to AniList like any edit); picking the side that won
only marks the conflict resolved. Either way it is recorded on the conflict row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select, update

from tracker.extensions import db
from tracker.models import ItemEvent, LibraryItem, Origin, utcnow
from tracker.services import library
from tracker.services.errors import Conflict, Invalid, NotFound, ServiceError
from tracker.services.sync import ENTRY_FIELDS  # what AniList and this copy both hold

Side = Literal["local", "remote"]
SIDES: tuple[Side, ...] = ("local", "remote")
DELETED_ON_ANILIST = "deleted on AniList"


@dataclass(frozen=True)
class FieldConflict:
    field: str
    local: Any
    remote: Any

    def value(self, side: Side) -> Any:
        return self.local if side == "local" else self.remote


@dataclass(frozen=True)
class ConflictView:
    """A conflict as both sides saw it. ``winner`` is None for a record this version
    cannot read; such a conflict can only be dismissed."""

    winner: Side | None
    fields: list[FieldConflict]
    deleted_on_anilist: bool
    resolved_at: datetime | None
    resolution: Side | None

    @property
    def loser(self) -> Side | None:
        if self.winner is None:
            return None
        return "remote" if self.winner == "local" else "local"

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def can_use_other(self) -> bool:
        return self.loser is not None and bool(self.fields) and not self.deleted_on_anilist


@dataclass(frozen=True)
class EventView:
    """One history entry, with its conflict read when it is one."""

    id: int
    item_id: int
    at: datetime
    origin: str
    kind: str
    changes: dict[str, Any]
    conflict: ConflictView | None = field(default=None)


def read_conflict(event: ItemEvent, item: LibraryItem | None) -> ConflictView:
    """Both sides of a conflict; ``item`` (None once deleted) stands in for the side
    that won when the record kept only the side that lost."""
    changes = event.changes or {}
    resolved = {"resolved_at": event.resolved_at, "resolution": event.resolution}
    if changes.get("remote") == DELETED_ON_ANILIST:
        return ConflictView("local", [], True, **resolved)
    winner = changes.get("winner")
    if winner not in SIDES:
        return ConflictView(None, [], False, **resolved)
    loser = "remote" if winner == "local" else "local"
    lost = changes.get(loser)
    if not isinstance(lost, dict):
        return ConflictView(winner, [], False, **resolved)
    kept = changes.get(winner)
    if not isinstance(kept, dict):
        kept = {name: getattr(item, name) for name in ENTRY_FIELDS} if item is not None else {}
    fields = []
    for name in ENTRY_FIELDS:
        if name not in lost or (name in kept and kept[name] == lost[name]):
            continue
        sides = {loser: lost[name], winner: kept.get(name)}
        fields.append(FieldConflict(name, sides["local"], sides["remote"]))
    return ConflictView(winner, fields, False, **resolved)


def _view(event: ItemEvent, item: LibraryItem | None) -> EventView:
    conflict = read_conflict(event, item) if event.kind == "conflict" else None
    changes = event.changes or {}
    if event.kind == "deleted":  # what it kept to be restored is no edit anyone made
        changes = {k: v for k, v in changes.items() if k not in library.RESTORE_FIELDS}
    return EventView(event.id, event.item_id, event.at, event.origin, event.kind,
                     changes, conflict)  # fmt: skip


def _events(user_id: int, item_id: int):
    return select(ItemEvent).where(ItemEvent.item_id == item_id, ItemEvent.user_id == user_id)


def _newest_first(query):
    return query.order_by(ItemEvent.at.desc(), ItemEvent.id.desc())


def for_item(item: LibraryItem) -> list[EventView]:
    """The whole history of an item the caller already owns, newest first."""
    events = db.session.scalars(_newest_first(_events(item.user_id, item.id)))
    return [_view(event, item) for event in events]


def page_of(user_id: int, item_id: int, *, page: int = 1, per_page: int = 50) -> library.Page:
    """A page of an item's history, newest first. The history goes with its item: once
    the item is removed (or if it was never the user's) it is not found here, as the item
    itself is not; the rows stay in the database."""
    item = library.get_item(user_id, item_id)
    query = _events(user_id, item_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    events = db.session.scalars(_newest_first(query).limit(per_page).offset((page - 1) * per_page))
    return library.Page([_view(e, item) for e in events], total, page, per_page)


def resolve(
    user_id: int, item_id: int, event_id: int, use: Side, origin: Origin
) -> tuple[LibraryItem, EventView]:
    """Settle a conflict with the value of ``use`` (``local``: this copy's, ``remote``:
    AniList's). Returns the item and the conflict as it now stands; settling one that
    is already settled changes nothing."""
    if use not in SIDES:
        raise Invalid("Choose local or remote.", fields={"use": ["Choose local or remote."]})
    event = db.session.scalar(
        _events(user_id, item_id).where(ItemEvent.id == event_id, ItemEvent.kind == "conflict")
    )
    if event is None:
        raise NotFound("No such conflict in this item's history.")
    item = db.session.scalar(
        select(LibraryItem).where(LibraryItem.id == item_id, LibraryItem.user_id == user_id)
    )
    if item is None:
        raise Conflict(
            "This item has been removed from your library, so there is nothing to apply "
            "the value to. Its history is kept."
        )
    conflict = read_conflict(event, item)
    if conflict.resolved:
        return item, _view(event, item)
    if use == conflict.loser and conflict.deleted_on_anilist:
        message = "AniList deleted this entry: there is no other value to use. Keep this copy."
        raise Invalid(message, fields={"use": [message]})
    # Claimed with a compare-and-set, so two clicks at once apply the value only once.
    claimed = db.session.execute(
        update(ItemEvent)
        .where(ItemEvent.id == event.id, ItemEvent.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolution=use)
    ).rowcount
    if claimed and use == conflict.loser:
        try:
            library.apply_changes(item, {f.field: f.value(use) for f in conflict.fields}, origin)
        except ServiceError:
            db.session.rollback()
            raise
    db.session.commit()
    db.session.refresh(event)
    return item, _view(event, item)
