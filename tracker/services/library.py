"""The library: every rule about a user's items lives here.

The HTML views and the JSON API both call these functions. Each change writes an
``item_events`` row with its origin in the same transaction as the change.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import manager_of_class, set_committed_value

from tracker.extensions import db
from tracker.models import (
    STATUSES,
    ItemEvent,
    LibraryItem,
    Media,
    MediaType,
    Origin,
    Status,
    SyncOutbox,
    utcnow,
)
from tracker.services import catalog, outbox
from tracker.services.errors import Conflict, NotFound, ServiceError, invalid

# Fields copied as they are from validated input onto the item.
PLAIN_FIELDS = (
    "title",
    "status",
    "progress",
    "progress_volumes",
    "score",
    "notes",
    "repeat",
    "private",
    "cover_url",
    "started_on",
    "completed_on",
)
SORT_COLUMNS = {
    "updated": LibraryItem.updated_at,
    "title": func.lower(LibraryItem.title),
    "progress": LibraryItem.progress,
    "score": LibraryItem.score,
    "created": LibraryItem.created_at,
}
# Status changes a person expects when they edit by hand (AniList does the same).
USER_ORIGINS = (Origin.WEB, Origin.API)


@dataclass(frozen=True)
class Change:
    """What an edit did: the item as it is now, and ``{field: [before, after]}`` for
    each field that moved (so a message can say exactly what happened)."""

    item: LibraryItem
    changes: dict[str, list[Any]]


class AlreadyInLibrary(Conflict):
    """The title is in the library already: ``item_id`` is the item, for a link to it."""

    def __init__(self, title: str, item_id: int) -> None:
        super().__init__(f"“{title}” is already in your library.")
        self.item_id = item_id


@dataclass(frozen=True)
class Page:
    items: list[LibraryItem]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def unit_for(media_type: str) -> str:
    return "episode" if media_type == MediaType.ANIME else "chapter"


def list_items(
    user_id: int,
    *,
    type: str | None = None,
    status: str | None = None,
    q: str | None = None,
    list: str | None = None,  # the query parameter's name
    conflicts: bool = False,
    sort: str = "-updated",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """A page of the user's items; ``list`` keeps those in that AniList custom list,
    ``conflicts`` those with a sync conflict nobody has resolved yet."""
    query = select(LibraryItem).where(LibraryItem.user_id == user_id)
    if list:
        names = _custom_list_names()
        query = query.where(exists(select(names.c.value).where(names.c.value == list)))
    if conflicts:
        query = query.where(LibraryItem.id.in_(unresolved_conflicts(user_id, ItemEvent.item_id)))
    if type:
        query = query.where(LibraryItem.media_type == type)
    if status:
        query = query.where(LibraryItem.status == status)
    if q and q.strip():
        needle = q.strip().lower()
        query = query.outerjoin(Media, LibraryItem.media_id == Media.id).where(
            or_(
                func.lower(LibraryItem.title).contains(needle, autoescape=True),
                Media.search_text.contains(needle, autoescape=True),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = SORT_COLUMNS[sort.lstrip("-")]
    order = column.desc() if sort.startswith("-") else column.asc()
    tie = LibraryItem.id.desc() if sort.startswith("-") else LibraryItem.id.asc()
    rows = db.session.scalars(
        query.order_by(order.nulls_last(), tie).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(items=[*rows], total=total, page=page, per_page=per_page)


def _custom_list_names():
    """The names in each item's ``custom_lists`` as rows of one ``value`` column."""
    if db.engine.dialect.name == "postgresql":
        names = func.json_array_elements_text(LibraryItem.custom_lists)
        return names.table_valued("value").render_derived(name="custom_list")
    return func.json_each(LibraryItem.custom_lists).table_valued("value")


def custom_lists(user_id: int) -> list[str]:
    """Every custom list name in the user's library, in alphabetical order."""
    names = _custom_list_names()
    found = db.session.scalars(
        select(names.c.value)
        .select_from(LibraryItem)
        .join(names, true())
        .where(LibraryItem.user_id == user_id)
        .distinct()
    )
    return sorted(found, key=str.casefold)


def unresolved_conflicts(user_id: int, column):
    """``column`` of the user's conflicts that nobody has settled yet."""
    return select(column).where(
        ItemEvent.user_id == user_id,
        ItemEvent.kind == "conflict",
        ItemEvent.resolved_at.is_(None),
    )


def get_item(user_id: int, item_id: int) -> LibraryItem:
    item = db.session.scalar(
        select(LibraryItem).where(LibraryItem.id == item_id, LibraryItem.user_id == user_id)
    )
    if item is None:
        raise NotFound("No such item in your library.")
    return item


def add_item(user_id: int, data: dict[str, Any], origin: Origin) -> LibraryItem:
    """Add a title: linked to the catalogue when it has a remote id, manual otherwise.
    A refused title leaves nothing behind (not even its catalogue entry)."""
    try:
        item = _new_item(user_id, data, origin)
    except ServiceError:
        db.session.rollback()
        raise
    db.session.commit()
    return item


def _new_item(user_id: int, data: dict[str, Any], origin: Origin) -> LibraryItem:
    media = _media_for_new_item(data)
    _refuse_duplicate(user_id, media, data)
    item = LibraryItem(
        user_id=user_id,
        media=media,
        media_type=data["type"],
        status=data.get("status") or Status.PLANNING.value,
        progress=0,
        repeat=0,
        private=False,
    )
    for field in PLAIN_FIELDS:
        if data.get(field) is not None:
            setattr(item, field, data[field])
    _set_max(item, data.get("max_progress"))
    if origin in USER_ORIGINS:
        _apply_status_rules(item, status_changed="status" in data, old_progress=0)
    _check_progress(item)
    now = utcnow()
    item.created_at = item.updated_at = now
    db.session.add(item)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict("That title is already in your library.") from exc
    record_event(item, "created", {"title": [None, item.title]}, origin)
    return item


def update_item(user_id: int, item_id: int, changes: dict[str, Any], origin: Origin) -> Change:
    item = get_item(user_id, item_id)
    try:
        diff = apply_changes(item, changes, origin)
    except Exception:
        db.session.rollback()  # a refused edit leaves nothing half-applied
        raise
    db.session.commit()
    return Change(item, diff)


def apply_changes(
    item: LibraryItem, changes: dict[str, Any], origin: Origin
) -> dict[str, list[Any]]:
    """An edit of ``item`` with its rules, history and push, left for the caller to commit.

    Returns what changed, ``{field: [before, after]}``."""
    before = _snapshot(item)
    for field in PLAIN_FIELDS:
        if field in changes:
            if field == "title" and not changes[field]:
                raise invalid("title", "A title is required.")
            setattr(item, field, changes[field])
    if "max_progress" in changes:
        _set_max(item, changes["max_progress"])
    if origin in USER_ORIGINS:
        _apply_status_rules(
            item, status_changed="status" in changes, old_progress=before["progress"]
        )
    _check_progress(item)
    diff = _diff(before, _snapshot(item))
    if diff:
        item.updated_at = utcnow()
        record_event(item, "updated", diff, origin)
    return diff


# The fields a +1 can move: progress, and through the status rules these.
STEP_FIELDS = ("progress", "status", "started_on", "completed_on")
_items = LibraryItem.__table__
_media = Media.__table__
_outbox = SyncOutbox.__table__


def increment_progress(
    user_id: int, item_id: int, by: int, origin: Origin, *, linked: bool | None = None
) -> Change:
    """Change progress by ``by`` in one atomic ``UPDATE … RETURNING``, so simultaneous
    clicks all count; the bounds and the status rules are applied in SQL.

    ``linked`` says whether the user has linked AniList (``User.anilist_linked``, loaded
    with the user); a caller without the user row leaves it to a query. With it, a +1
    is three statements: the update, the history row and (linked only) the push.
    """
    statement = _step_statement(db.engine.dialect.name, (by > 0) - (by < 0), origin in USER_ORIGINS)
    params = {"step_item": item_id, "step_user": user_id, "by": by, "now": utcnow(),
              "today": datetime.now(UTC).date().isoformat()}  # fmt: skip
    _begin_on_sqlite()
    row = db.session.execute(statement, params).one_or_none()
    if row is None:
        db.session.rollback()
        _refuse_step(user_id, item_id, by)
    item = _item_from_row(row)
    before = {field: row._mapping[f"old_{field}"] for field in STEP_FIELDS}
    diff = _diff(before, {field: getattr(item, field) for field in STEP_FIELDS})
    if record_event(item, "updated", diff, origin, linked=linked):
        set_committed_value(item, "outbox", SyncOutbox(item_id=item.id))  # pending now
    db.session.commit()
    return Change(item, diff)


def _begin_on_sqlite() -> None:
    """Open the transaction the +1 runs in, on SQLite.

    Python's sqlite3 begins a transaction by itself only before a statement that starts
    with INSERT, UPDATE, DELETE or REPLACE. The +1 starts with ``WITH old AS …``, so
    without this it would commit on its own, before its history row and its queued
    push: a reader could see the new progress beside the old push (the worker sent one
    state twice under ``make load``), and a crash in between would lose the push."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.dbapi_connection
    if not driver.in_transaction:
        # On the driver's connection: transaction control, not a statement of the +1.
        driver.execute("BEGIN")


@functools.cache
def _step_statement(dialect: str, direction: int, user_origin: bool):
    """The +1 as one statement; ``old_*`` columns hold the values it replaced.

    The old values come from a materialised CTE (locked ``FOR UPDATE`` on PostgreSQL,
    so a concurrent click is waited for and seen): RETURNING itself sees only the new row.
    Built once per shape, with ``step_item``, ``step_user``, ``by``, ``now`` and ``today``
    bound at execution: building and keying a statement this size costs more than
    running it.
    """
    by = bindparam("by", type_=Integer())
    is_anime = _items.c.media_type == MediaType.ANIME.value
    total = case((is_anime, _media.c.episodes), else_=_media.c.chapters)
    # The item with its catalogue entry and its queued push, read (and on PostgreSQL
    # locked) once; everything after reads this one row.
    old = (
        select(
            _items.c.id,
            *(_items.c[f] for f in STEP_FIELDS),
            func.coalesce(_items.c.max_progress_override, total).label("step_limit"),
            *(column.label(f"media__{column.name}") for column in _media.c),
            _outbox.c.id.label("outbox_id"),
            _outbox.c.last_error.label("outbox_error"),
        )
        .select_from(
            _items.outerjoin(_media, _media.c.id == _items.c.media_id).outerjoin(
                _outbox, _outbox.c.item_id == _items.c.id
            )
        )
        .where(_items.c.id == bindparam("step_item"), _items.c.user_id == bindparam("step_user"))
    )
    if dialect == "postgresql":
        old = old.with_for_update(of=_items)
    old = old.cte("old").prefix_with("MATERIALIZED")

    def was(column_name: str):
        return select(old.c[column_name]).scalar_subquery()

    limit = was("step_limit")
    progress = _items.c.progress + by
    conditions = [_items.c.id == was("id"), progress >= 0]
    if direction > 0:
        conditions.append(or_(limit.is_(None), progress <= limit))
    now = bindparam("now", type_=_items.c.updated_at.type)
    values: dict[str, Any] = {"progress": progress, "updated_at": now}
    if user_origin:
        values.update(_status_rules_sql(progress, limit, moved=direction != 0))
    returned = [
        *_items.c,
        *(was(f"media__{column.name}").label(f"media__{column.name}") for column in _media.c),
        was("outbox_id").label("outbox_id"),
        was("outbox_error").label("outbox_error"),
        *(was(f).label(f"old_{f}") for f in STEP_FIELDS),
    ]
    return update(_items).where(*conditions).values(values).returning(*returned)


def _status_rules_sql(progress, limit, *, moved: bool) -> dict[str, Any]:
    """``_apply_status_rules`` for a change of progress alone, as SQL: the first episode
    makes a planned title current, the last one completes it, and the dates follow."""
    status = _items.c.status
    today = bindparam("today", type_=String())
    new_status = status
    if moved:
        first = and_(status == Status.PLANNING.value, _items.c.progress == 0, progress > 0)
        last = and_(limit.is_not(None), progress == limit)
        new_status = case(
            (and_(first, last), Status.COMPLETED.value),
            (first, Status.CURRENT.value),
            (and_(status == Status.CURRENT.value, last), Status.COMPLETED.value),
            else_=status,
        )

    def unset(column):
        return or_(column.is_(None), column == "")

    started = and_(new_status == Status.CURRENT.value, progress > 0, unset(_items.c.started_on))
    completed = and_(new_status == Status.COMPLETED.value, unset(_items.c.completed_on))
    return {
        "status": new_status,
        "started_on": case((started, today), else_=_items.c.started_on),
        "completed_on": case((completed, today), else_=_items.c.completed_on),
    }


def _item_from_row(row) -> LibraryItem:
    """The item as the update returned it, built outside the session: nothing about it
    is loaded again, before or after the commit.

    Its values go straight into the new instances' state, as the ORM's own loader puts
    them (no attribute events, no history): the item is a plain ``LibraryItem`` with its
    catalogue entry and queued push, at a small part of what constructing it costs."""
    item = _blank_item()
    item.__dict__.update(zip(_ITEM_KEYS, row[:_MEDIA_AT], strict=True))
    media = None
    if item.media_id is not None:
        media = _blank_media()
        media.__dict__.update(zip(_MEDIA_KEYS, row[_MEDIA_AT:_OUTBOX_AT], strict=True))
    outbox_row = None
    if row[_OUTBOX_AT] is not None:
        outbox_row = _blank_outbox()
        outbox_row.__dict__.update(item_id=item.id, last_error=row[_OUTBOX_AT + 1])
    item.__dict__.update(media=media, outbox=outbox_row)
    return item


# Where each part of the step's RETURNING row starts (``_step_statement``'s order).
_ITEM_KEYS = tuple(column.key for column in _items.c)
_MEDIA_KEYS = tuple(column.key for column in _media.c)
_MEDIA_AT = len(_ITEM_KEYS)
_OUTBOX_AT = _MEDIA_AT + len(_MEDIA_KEYS)
_blank_item = manager_of_class(LibraryItem).new_instance
_blank_media = manager_of_class(Media).new_instance
_blank_outbox = manager_of_class(SyncOutbox).new_instance


def _refuse_step(user_id: int, item_id: int, by: int) -> None:
    """Why a step changed nothing: the item is gone, or the step leaves the bounds."""
    item = get_item(user_id, item_id)
    if item.progress + by < 0:
        raise invalid("progress", "Progress can't go below 0.")
    raise invalid(
        "progress",
        f"Already at {item.progress} of {item.max_progress} {unit_for(item.media_type)}s; "
        "raise the max to go further.",
    )


# What a removal records beside the fields a person edits, so ``restore_item`` can put
# the item back as it was; the history shows only the edited fields (``history``).
RESTORE_FIELDS = ("media_id", "media_type", "custom_lists", "anilist_entry_id", "created_at")


def delete_item(user_id: int, item_id: int, origin: Origin) -> str:
    """Remove an item (its history stays, and what it held, for ``restore_item``);
    returns the title it had."""
    item = get_item(user_id, item_id)
    title = item.title
    record_event(item, "deleted", _removal(item), origin)
    db.session.delete(item)
    db.session.commit()
    return title


def _removal(item: LibraryItem) -> dict[str, list[Any]]:
    """Every field that held something, as ``[value, None]``."""
    held = {**_snapshot(item), **{field: getattr(item, field) for field in RESTORE_FIELDS}}
    held["created_at"] = item.created_at.isoformat() if item.created_at else None
    return {field: [value, None] for field, value in held.items() if value not in (None, "", [])}


def restore_item(user_id: int, item_id: int, origin: Origin) -> LibraryItem:
    """Put a removed item back as its removal recorded it: the same id (so its history
    reads on), fields, catalogue link and AniList entry. A push is queued as for a new
    item: it turns a delete still waiting in the outbox back into a save (one row per
    item), and after a delete AniList already took, the save with the old entry id
    falls back to creating the entry again (``sync._send``).

    404 when the user never had this item; 409 when it is in the library (restored
    already) or cannot be restored (removed before removals kept their fields, or the
    title was added again since)."""
    if db.session.scalar(select(LibraryItem.id).where(LibraryItem.id == item_id)) is not None:
        get_item(user_id, item_id)  # another person's item is not found
        raise Conflict("That item is already in your library.")
    removal = db.session.scalar(
        select(ItemEvent)
        .where(ItemEvent.item_id == item_id, ItemEvent.user_id == user_id)
        .order_by(ItemEvent.at.desc(), ItemEvent.id.desc())
        .limit(1)
    )
    if removal is None or removal.kind != "deleted":
        raise NotFound("No such item in your library.")
    held = {field: change[0] for field, change in (removal.changes or {}).items()}
    if "media_type" not in held:
        raise Conflict("This removal can't be undone: it was made before undo existed.")
    try:
        item = _restored(user_id, item_id, held)
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("That title is in your library again already.") from exc
    record_event(item, "restored", {"title": [None, item.title]}, origin)
    db.session.commit()
    return item


def _restored(user_id: int, item_id: int, held: dict[str, Any]) -> LibraryItem:
    media = db.session.get(Media, held["media_id"]) if held.get("media_id") else None
    created = held.get("created_at")
    item = LibraryItem(
        id=item_id, user_id=user_id, media=media, media_type=held["media_type"],
        status=Status.PLANNING.value, progress=0, repeat=0, private=False,
        max_progress_override=held.get("max_progress"),
        custom_lists=held.get("custom_lists") or [],
        anilist_entry_id=held.get("anilist_entry_id"),
        created_at=datetime.fromisoformat(created) if created else utcnow(),
        updated_at=utcnow(),
    )  # fmt: skip
    for field in PLAIN_FIELDS:
        if held.get(field) is not None:
            setattr(item, field, held[field])
    db.session.add(item)
    return item


def summary(user_id: int) -> dict[str, Any]:
    by_status = dict.fromkeys(STATUSES, 0)
    by_type = {t.value: 0 for t in MediaType}
    rows = db.session.execute(
        select(LibraryItem.media_type, LibraryItem.status, func.count())
        .where(LibraryItem.user_id == user_id)
        .group_by(LibraryItem.media_type, LibraryItem.status)
    )
    for media_type, status, count in rows:
        by_status[status] = by_status.get(status, 0) + count
        by_type[media_type] = by_type.get(media_type, 0) + count
    return {"total": sum(by_type.values()), "by_status": by_status, "by_type": by_type}


def refresh_item(user_id: int, item_id: int) -> tuple[LibraryItem, str]:
    """Re-read one item's metadata from AniList; on failure the item stays as it was.

    Returns the item and AniList's state (``ok``, ``unavailable``, ``rate_limited``).
    """
    item = get_item(user_id, item_id)
    if item.media is None or item.media.anilist_id is None:
        # Nothing in the request is wrong: the item is in a state that cannot be refreshed.
        raise Conflict(
            "Only titles linked to AniList can be refreshed.",
            fields={"source": ["This item has no AniList id."]},
        )
    _media, state = catalog.fetch_anilist_media(item.media.anilist_id)
    return get_item(user_id, item_id), state


# --- rules -----------------------------------------------------------------


def _media_for_new_item(data: dict[str, Any]) -> Media | None:
    source = data.get("source") or "manual"
    if source == "manual":
        return None
    key = {"anilist": "anilist_id", "mangadex": "mangadex_id"}[source]
    external_id = data.get(key)
    if external_id is None:
        raise invalid(key, f"{key} is required when source is {source}.")
    # The title, cover and total given stay on the item (PLAIN_FIELDS, _set_max).
    return catalog.get_or_create_media(source, str(external_id), media_type=data["type"])


def _refuse_duplicate(user_id: int, media: Media | None, data: dict[str, Any]) -> None:
    """A catalogue title is in a library once (the unique index says so too); a title
    typed by hand is refused when one of the same type reads the same once normalised
    (case, width and spaces aside), so adding it twice by mistake says where it is."""
    if media is not None:
        if media.id is None:  # new to the catalogue: nobody has it yet
            return
        found = db.session.execute(
            select(LibraryItem.id, LibraryItem.title).where(
                LibraryItem.user_id == user_id, LibraryItem.media_id == media.id
            )
        ).first()
    else:
        wanted = catalog.normalise(data.get("title") or "")
        typed = db.session.execute(
            select(LibraryItem.id, LibraryItem.title).where(
                LibraryItem.user_id == user_id,
                LibraryItem.media_id.is_(None),
                LibraryItem.media_type == data["type"],
            )
        )
        found = next((row for row in typed if catalog.normalise(row.title) == wanted), None)
    if found is not None:
        raise AlreadyInLibrary(found.title, found.id)


def _set_max(item: LibraryItem, value: int | None) -> None:
    """An explicit max equal to the catalogue's total is no override at all."""
    media_total = item.media.total if item.media is not None else None
    item.max_progress_override = None if value == media_total else value


def _check_progress(item: LibraryItem) -> None:
    limit = item.max_progress
    if limit is not None and item.progress > limit:
        raise invalid(
            "progress",
            f"Progress {item.progress} is past the last {unit_for(item.media_type)} ({limit}).",
        )


def _apply_status_rules(item: LibraryItem, *, status_changed: bool, old_progress: int) -> None:
    today = datetime.now(UTC).date().isoformat()
    limit = item.max_progress
    if status_changed:
        if item.status == Status.COMPLETED and limit is not None and item.progress < limit:
            item.progress = limit
    elif item.progress != old_progress:
        if item.status == Status.PLANNING and old_progress == 0 and item.progress > 0:
            item.status = Status.CURRENT.value
        if limit is not None and item.progress == limit and item.status == Status.CURRENT:
            item.status = Status.COMPLETED.value
    if item.status == Status.CURRENT and item.progress > 0 and not item.started_on:
        item.started_on = today
    if item.status == Status.COMPLETED and not item.completed_on:
        item.completed_on = today


def _snapshot(item: LibraryItem) -> dict[str, Any]:
    values = {field: getattr(item, field) for field in PLAIN_FIELDS}
    values["max_progress"] = item.max_progress_override
    return values


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def record_event(
    item: LibraryItem,
    kind: str,
    changes: dict[str, Any],
    origin: Origin,
    *,
    linked: bool | None = None,
) -> bool:
    """Write the item's history; a change made here (not one from AniList) is queued
    for AniList in the same transaction (``linked``: see ``outbox.note_change``).

    Returns whether a push was queued."""
    queued = origin in USER_ORIGINS and bool(changes)
    if queued:
        queued = outbox.note_change(item, kind, linked=linked)
    # A plain INSERT, its values bound at execution (no statement to build and key each
    # time): the history row is written, never read back in this request.
    db.session.execute(
        _EVENT_INSERT,
        {"item_id": item.id, "user_id": item.user_id, "at": utcnow(), "origin": str(origin),
         "kind": kind, "changes": changes},
    )  # fmt: skip
    return queued


_EVENT_INSERT = insert(ItemEvent.__table__)
