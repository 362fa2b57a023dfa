"""Two-way sync with AniList (DESIGN §6).

Push: the worker drains ``sync_outbox``. A row is leased by moving its
``next_attempt_at`` forward (compare-and-set, with ``SKIP LOCKED`` on PostgreSQL),
so several workers never send the same row together; after a send it is removed
only if no edit arrived meanwhile, otherwise the newer state goes out next. Each
row is sent on its own: a change AniList refuses (or that cannot be mapped to
AniList's fields) is quarantined on its row with the reason, and the round goes on.

Pull: pending pushes go first, then what changed on AniList is read and applied. An
entry changed on both sides since the last sync is settled field by field by the newer
side and the losing values are written to the item's history as a conflict. A periodic
pull reads only the entries changed since the newest one the last pull read (by
AniList's own clock, with an overlap); the whole list is read on the first pull, once a
day (only a full read shows entries deleted on AniList), on an import and on request.

First connect and import: the same merge, with nothing assumed about either side
(see ``_winner``); local titles with an AniList id that AniList lacks are queued to
be created there. An account connected for the first time waits for its owner to
choose ``newest``, ``mine`` or ``theirs`` (``preview_first_sync`` shows what each
would change); until then nothing is pulled or pushed for it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, delete, exists, select, update

from tracker import metrics
from tracker.clients import (
    AniListClient,
    BadResponse,
    ClientError,
    ListChunk,
    ListEntry,
    NotFound,
    RateLimited,
    Unauthorized,
)
from tracker.clients.anilist import MEDIA_TYPES, iso_to_fuzzy
from tracker.extensions import db
from tracker.logs import current_request_id, request_context
from tracker.models import (
    AniListAccount,
    Job,
    LibraryItem,
    Media,
    Origin,
    SyncOutbox,
    utcnow,
)
from tracker.services import airing, anilist, catalog, imports, jobs, outbox, throttle
from tracker.services.errors import NotFound as MissingError
from tracker.services.errors import ServiceError, invalid
from tracker.services.library import record_event
from tracker.services.remote import remote

LEASE = timedelta(seconds=60)  # a worker that dies mid-push frees its rows after this
MAX_RETRY_GAP = 30.0  # seconds: failed pushes are retried at most this far apart
REAUTH_RETRY = timedelta(seconds=30)
PUSH_BATCH = 50
# A failing pull waits PULL_BACKOFF_BASE · 2^(failures-1) seconds, jittered down to half
# and never more than PULL_BACKOFF_CAP; one success resets it.
PULL_BACKOFF_BASE = 30.0
PULL_BACKOFF_CAP = 3600.0
# Share of the AniList budget a pull leaves for pushes (DESIGN §6: a change reaches a
# healthy AniList within 10 s, whatever pulls are running).
PUSH_RESERVE_SHARE = 0.2
# A pull reads the whole list at least this often; between, only what changed.
FULL_PULL_EVERY = timedelta(days=1)
# Seconds: a pull re-reads entries this much older than the newest the last one read
# (AniList's updatedAt has whole seconds; an entry saved in that same second is not lost).
PULL_OVERLAP = 120
# An ``updatedAt`` further ahead of our clock than this is not believed for the
# watermark: one bad timestamp would otherwise hide every later change until a full read.
WATERMARK_SLACK = 86_400
# More changes than this many requests bring: reading the whole list costs less.
UPDATES_MAX_REQUESTS = 10
PRUNE_EVERY = timedelta(hours=1)
IMPORT, SYNC, FIRST_SYNC = "anilist_import", "anilist_sync", "anilist_first_sync"
JOB_KINDS = (IMPORT, SYNC, FIRST_SYNC)
POLICIES = ("newest", "mine", "theirs")
ENTRY_FIELDS = ("status", "progress", "progress_volumes", "score", "notes", "repeat",
                "private", "started_on", "completed_on")  # fmt: skip
PREVIEW_EXAMPLES = 5


class AniListUnreachable(ServiceError):
    status = 503
    code = "anilist_unavailable"


class Refused(Exception):
    """A change retrying cannot fix: AniList refused it, or it cannot be put in
    AniList's terms. ``message`` tells the person what happened and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- push ------------------------------------------------------------------------------


def push_pending(
    *, user_id: int | None = None, now: datetime | None = None, skip_user: int | None = None
) -> int:
    """Send due outbox rows (oldest first); returns how many were delivered.

    Each row is sent on its own: one that fails, whatever the reason, never keeps
    the rows after it (anyone's) from going out in the same round."""
    now = now or utcnow()
    delivered = 0
    leased = _lease_due_rows(user_id, skip_user, now)
    for position, (row_id, seen, request_id) in enumerate(leased):
        with request_context(request_id):  # logged under the request of the edit
            try:
                row = db.session.get(SyncOutbox, row_id)
                if row is None:
                    continue
                delivered += _push(row, seen, now)
                db.session.commit()
            except RateLimited as error:
                # The budget is closed for everyone: this row and the rest of the round
                # wait for it, rather than for their lease to run out.
                waiting = [leased_id for leased_id, _, _ in leased[position:]]
                _reschedule(waiting, now + timedelta(seconds=error.retry_after), str(error))
                break
            except Exception:
                db.session.rollback()
                current_app.logger.exception("Pushing outbox row %s failed", row_id)
                message = "Sending to AniList failed unexpectedly; it will be tried again."
                _reschedule([row_id], now + timedelta(seconds=MAX_RETRY_GAP), message)
    return delivered


def _lease_due_rows(
    user_id: int | None, skip_user: int | None, now: datetime
) -> list[tuple[int, datetime, str | None]]:
    waiting_for_choice = exists().where(
        AniListAccount.user_id == SyncOutbox.user_id, AniListAccount.first_sync_pending
    )
    query = (
        select(
            SyncOutbox.id, SyncOutbox.next_attempt_at, SyncOutbox.updated_at, SyncOutbox.request_id
        )
        .where(
            SyncOutbox.next_attempt_at <= now,
            SyncOutbox.failed_at.is_(None),  # quarantined until the item is edited
            ~waiting_for_choice,  # first connect: nothing moves before the owner chooses
        )
        .order_by(SyncOutbox.id)
        .limit(PUSH_BATCH)
        .with_for_update(skip_locked=True)  # PostgreSQL: other workers skip these rows
    )
    if user_id is not None:
        query = query.where(SyncOutbox.user_id == user_id)
    if skip_user is not None:
        query = query.where(SyncOutbox.user_id != skip_user)
    leased = []
    for row_id, due, updated, request_id in db.session.execute(query).all():
        taken = db.session.execute(
            update(SyncOutbox)
            .where(SyncOutbox.id == row_id, SyncOutbox.next_attempt_at == due)
            .values(next_attempt_at=now + LEASE)
        ).rowcount
        if taken:
            leased.append((row_id, updated, request_id))
    db.session.commit()
    return leased


def _push(row: SyncOutbox, seen: datetime, now: datetime) -> int:
    account = anilist.account_for(row.user_id)
    if account is None:  # disconnected since: nothing to send
        db.session.delete(row)
        return 0
    if account.state == anilist.NEEDS_REAUTH:
        row.next_attempt_at = now + REAUTH_RETRY
        return 0
    item, seen = _state_to_send(row, seen)
    try:
        client = anilist.client_for(account)
        entry = _send(client, row, item)
    except Unauthorized:
        anilist.mark_needs_reauth(account, "AniList refused the token: reconnect in Settings.")
        row.next_attempt_at = now + REAUTH_RETRY
        row.last_error = account.last_error
        return 0
    except RateLimited:
        raise
    except Refused as refusal:
        _quarantine(row, seen, refusal.message, now)
        return 0
    except ClientError as error:
        row.attempts += 1
        row.last_error = str(error)  # "AniList unreachable: HTTP 503"
        row.next_attempt_at = now + timedelta(seconds=_retry_gap(row.attempts))
        account.last_error = f"Waiting for AniList: {error}"
        return 0
    if entry is not None or (row.op == "delete" and row.anilist_entry_id is not None):
        # AniList acknowledged: time since the oldest change the row carried.
        metrics.record_push((utcnow() - row.created_at).total_seconds())
    _delivered(row, seen, entry, now)
    account.last_sync_at = now
    account.last_error = None
    return 1


def _state_to_send(row: SyncOutbox, seen: datetime) -> tuple[LibraryItem | None, datetime]:
    """The item as it is now, with the row's ``updated_at`` that goes with that state.

    Both in one statement (one snapshot): an edit commits the item and its row together,
    so the state sent is exactly the one of the ``updated_at`` read, and the row is
    removed after the send only if it has not moved since. The lease's older
    ``updated_at`` would have the same state sent twice whenever an edit landed between
    the lease and this read."""
    if row.op == "delete":
        return None, seen
    found = db.session.execute(
        select(LibraryItem, SyncOutbox.updated_at)
        .join(SyncOutbox, SyncOutbox.item_id == LibraryItem.id)
        .where(SyncOutbox.id == row.id)
        .execution_options(populate_existing=True)
    ).first()
    return (found[0], found[1]) if found is not None else (None, seen)


def _send(client: AniListClient, row: SyncOutbox, item: LibraryItem | None) -> ListEntry | None:
    if row.op == "delete":
        if row.anilist_entry_id is None:
            return None
        with suppress(NotFound):  # already gone on AniList: that is what we wanted
            client.delete_entry(row.anilist_entry_id)
        return None
    if item is None:
        return None
    fields = _entry_values(item)
    try:
        if item.anilist_entry_id is not None:
            try:
                return client.save_entry(entry_id=item.anilist_entry_id, **fields)
            except (NotFound, BadResponse):
                pass  # the entry was deleted on AniList: the local change creates it again
        return client.save_entry(media_id=row.anilist_media_id, **fields)
    except BadResponse as error:
        raise Refused(f"AniList refused this entry: {error.detail or error.message}. "
                      "Edit the item to try again.") from error  # fmt: skip


def _entry_values(item: LibraryItem) -> dict[str, Any]:
    """The item in AniList's terms; ``Refused`` when a stored value has none."""
    for name, label in (("started_on", "start date"), ("completed_on", "finish date")):
        try:
            iso_to_fuzzy(getattr(item, name))
        except (ValueError, TypeError) as error:
            raise Refused(f"This entry cannot be sent to AniList: its {label} is {error}. "
                          "Edit the item to try again.") from error  # fmt: skip
    # Custom lists are sent only when known: an empty list would clear them on AniList.
    lists = {"custom_lists": item.custom_lists} if item.custom_lists else {}
    return {
        **lists,
        "status": item.status,
        "progress": item.progress,
        "progress_volumes": item.progress_volumes,
        "score_raw": item.score or 0,
        "repeat": item.repeat,
        "notes": item.notes,
        "private": item.private,
        "started_at": item.started_on,
        "completed_at": item.completed_on,
    }


def _quarantine(row: SyncOutbox, seen: datetime, message: str, now: datetime) -> None:
    """Park a refused row with its reason until the item is edited again; an edit that
    arrived while it was being sent goes out instead (it may be the fix)."""
    row_id = row.id
    db.session.expunge(row)
    parked = db.session.execute(
        update(SyncOutbox)
        .where(SyncOutbox.id == row_id, SyncOutbox.updated_at == seen)
        .values(
            failed_at=now, last_error=message, next_attempt_at=now, attempts=SyncOutbox.attempts + 1
        )
    ).rowcount
    if not parked:
        db.session.execute(
            update(SyncOutbox).where(SyncOutbox.id == row_id).values(next_attempt_at=now)
        )


def _delivered(row: SyncOutbox, seen: datetime, entry: ListEntry | None, now: datetime) -> None:
    item_id, row_id = row.item_id, row.id
    if entry is not None:
        db.session.execute(
            update(LibraryItem)
            .where(LibraryItem.id == item_id)
            .values(
                anilist_entry_id=entry["entry_id"],
                remote_updated_at=_from_unix(entry["updated_at"]),
                synced_at=now,
            )
        )
    db.session.expunge(row)
    # Removed only if no edit arrived while we were sending; else that edit goes next.
    removed = db.session.execute(
        delete(SyncOutbox).where(SyncOutbox.id == row_id, SyncOutbox.updated_at == seen)
    ).rowcount
    if not removed:
        # The edit that arrived meanwhile is what waits now: its wait starts no earlier.
        values: dict[str, Any] = {"next_attempt_at": now, "attempts": 0, "last_error": None,
                                  "created_at": seen}  # fmt: skip
        if entry is not None:
            values["anilist_entry_id"] = entry["entry_id"]
        db.session.execute(update(SyncOutbox).where(SyncOutbox.id == row_id).values(**values))


def _reschedule(row_ids: list[int], when: datetime, message: str) -> None:
    db.session.rollback()
    db.session.execute(
        update(SyncOutbox)
        .where(SyncOutbox.id.in_(row_ids))
        .values(next_attempt_at=when, last_error=message)
    )
    db.session.commit()


def _retry_gap(attempts: int) -> float:
    """Exponential backoff with jitter, never more than MAX_RETRY_GAP seconds."""
    ceiling = min(MAX_RETRY_GAP, 2.0**attempts)
    return random.uniform(ceiling / 2, ceiling)


# --- pull and merge ----------------------------------------------------------------------


@dataclass
class PullResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    unmatched: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "conflicts": self.conflicts, "unmatched": self.unmatched}  # fmt: skip


def pull(
    user_id: int,
    *,
    origin: Origin,
    job: Job | None = None,
    merge: str | None = None,
    full: bool = False,
    now: datetime | None = None,
) -> PullResult:
    """Read the user's AniList list (see ``_Reading``) and apply what changed there.

    ``merge`` (a policy of ``POLICIES``) makes it a first connect or an import: items
    never synced are merged too, and local titles AniList lacks are queued to be
    created there; the account then counts as synced. Between chunks the pushes of
    other accounts that fell due are sent (a long import never makes them wait).

    The library is loaded once; each chunk of up to 500 entries costs one catalogue
    query, batched inserts for what is new, and one commit (progress shows, and an
    interrupted import keeps what it finished). ``full`` reads the whole list even
    when only what changed would do.
    """
    account = anilist.account_for(user_id)
    if account is None:
        raise MissingError("No AniList account is connected.")
    started = now or utcnow()
    reading = _Reading.plan(account, merge is None and not full, started)
    client = _pull_client(account)
    state = _LibraryState.load(user_id, everything=reading.full)
    result = PullResult()
    seen_entries: set[int] = set()
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        for media_type, answer in reading.chunks(client):
            entries = answer["entries"]
            if reading.full:
                state.load_all()  # a read of only what changed may have turned into one
            else:
                state.include(entry["media_id"] for entry in entries)
            stored = catalog.upsert_records(e["media"] for e in entries if e["media"])
            media = {m.anilist_id: m for m in stored}
            created = []
            for entry in entries:
                seen_entries.add(entry["entry_id"])
                decision = _decide(state, entry, merge or "newest")
                item = _apply(state, decision, media.get(entry["media_id"]), media_type,
                              origin, result)  # fmt: skip
                if item is not None:
                    created.append(item)
            db.session.flush()  # the new items get their ids in one batch
            for item in created:
                record_event(item, "created", {"title": [None, item.title]}, origin)
            if job is not None:
                job.done += len(entries)
                job.total = max(job.total or 0, job.done)
            db.session.commit()
            if answer["has_next_chunk"]:
                push_pending(now=now, skip_user=user_id)
        if merge is not None:
            _create_missing_on_anilist(state)
        if reading.full:
            _forget_deleted_entries(state, seen_entries, result)
            account.last_full_pull_at = started
        account.pull_watermark = reading.watermark
        account.last_pull_at = account.last_sync_at = utcnow()
        if merge is not None:
            account.first_sync_pending = False
        db.session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
    return result


def _read_list(client: AniListClient, account: AniListAccount) -> Iterator[tuple[str, ListChunk]]:
    """The whole AniList list, chunk by chunk: (media type, chunk)."""
    for media_type in MEDIA_TYPES:
        chunk, more = 1, True
        while more:
            answer = client.media_list_collection(account.anilist_user_id, media_type, chunk)
            yield media_type, answer
            chunk, more = chunk + 1, answer["has_next_chunk"]


@dataclass
class _Reading:
    """What a pull reads: the entries changed at ``since`` or later (unix seconds,
    AniList's clock) or, when ``since`` is None, the whole list. ``watermark`` is
    the newest ``updatedAt`` read so far, by this pull or the ones before."""

    account: AniListAccount
    since: int | None
    watermark: int | None
    ceiling: int  # the latest ``updatedAt`` believed (see WATERMARK_SLACK)

    @classmethod
    def plan(cls, account: AniListAccount, incremental: bool, now: datetime) -> _Reading:
        """Only what changed, when asked for, once the whole list has been read within
        FULL_PULL_EVERY (the first pull, and one a day, read it all)."""
        last_full = account.last_full_pull_at
        recent = last_full is not None and now - last_full < FULL_PULL_EVERY
        since = None
        if incremental and recent and account.pull_watermark is not None:
            since = account.pull_watermark - PULL_OVERLAP
        ceiling = int(now.timestamp()) + WATERMARK_SLACK
        return cls(account, since, account.pull_watermark, ceiling)

    @property
    def full(self) -> bool:
        return self.since is None

    def chunks(self, client: AniListClient) -> Iterator[tuple[str, ListChunk]]:
        """(media type, chunk) as ``_read_list``; too many changes: the whole list."""
        if self.since is not None:
            try:
                for media_type, chunk in _read_updates(client, self.account, self.since):
                    yield media_type, self._noted(chunk)
                return
            except _TooManyChanges:
                self.since = None
        for media_type, chunk in _read_list(client, self.account):
            yield media_type, self._noted(chunk)

    def _noted(self, chunk: ListChunk) -> ListChunk:
        times = [e["updated_at"] for e in chunk["entries"]
                 if e["updated_at"] and e["updated_at"] <= self.ceiling]  # fmt: skip
        if times:
            self.watermark = max(*times, self.watermark or 0)
        return chunk


class _TooManyChanges(Exception):
    pass


def _read_updates(
    client: AniListClient, account: AniListAccount, since: int
) -> Iterator[tuple[str, ListChunk]]:
    """The entries changed at ``since`` or later, newest first, a page of both lists per
    request: a list is done at its first older entry. Each request leaves out what was
    read (by media id), so an entry that moves or disappears meanwhile never makes
    another one slip past a page boundary; an entry changed meanwhile is read next time
    (its ``updatedAt`` is later than anything read now, or within the overlap)."""
    read: dict[str, list[int]] = {media_type: [] for media_type in MEDIA_TYPES}
    wanted = set(MEDIA_TYPES)
    for _ in range(UPDATES_MAX_REQUESTS):
        pages = client.list_updates(account.anilist_user_id, read, wanted)
        chunks = []
        for media_type, page in pages.items():
            fresh = [e for e in page["entries"] if (e["updated_at"] or 0) >= since]
            read[media_type].extend(e["media_id"] for e in fresh)
            if len(fresh) < len(page["entries"]) or not page["has_next_page"]:
                wanted.discard(media_type)
            chunks.append((media_type, fresh))
        for position, (media_type, fresh) in enumerate(chunks, 1):
            last = position == len(chunks)
            yield media_type, {"entries": fresh, "has_next_chunk": last and bool(wanted)}
        if not wanted:
            return
    raise _TooManyChanges


def _pull_client(account: AniListAccount) -> AniListClient:
    """A client for reading the whole list: it leaves part of the budget for pushes."""
    per_minute = float(current_app.config["ANILIST_RATE_PER_MINUTE"])
    return anilist.client_for(account).keeping(max(1, int(per_minute * PUSH_RESERVE_SHARE)))


@dataclass
class _LibraryState:
    user_id: int
    by_media: dict[int, LibraryItem]
    title_only: dict[tuple[str, str], list[LibraryItem]]
    pending: set[int]
    seen_media: set[int] = field(default_factory=set)
    complete: bool = False  # every item loaded (else those of the entries read, see include)

    @classmethod
    def load(cls, user_id: int, *, everything: bool = True) -> _LibraryState:
        """The library as a pull needs it: every item, or (``everything`` false, for a pull
        that reads only what changed) the title-only ones, the rest as entries come."""
        pending = set(
            db.session.scalars(select(SyncOutbox.item_id).where(SyncOutbox.user_id == user_id))
        )
        state = cls(user_id, {}, {}, pending)
        if everything:
            state.load_all()
        else:
            state._take(
                select(LibraryItem).where(
                    LibraryItem.user_id == user_id, LibraryItem.media_id.is_(None)
                )
            )
        return state

    def load_all(self) -> None:
        """Every item (again, from the items as they now are): a full read needs them all
        to tell which entries AniList no longer has."""
        if self.complete:
            return
        self.by_media.clear()
        self.title_only.clear()
        self._take(select(LibraryItem).where(LibraryItem.user_id == self.user_id))
        self.complete = True

    def include(self, anilist_ids: Iterable[int]) -> None:
        """The items of these AniList ids too, if not loaded yet."""
        wanted = set(anilist_ids).difference(self.by_media)
        if wanted and not self.complete:
            self._take(
                select(LibraryItem)
                .join(LibraryItem.media)
                .where(LibraryItem.user_id == self.user_id, Media.anilist_id.in_(wanted))
            )

    def _take(self, query: Select) -> None:
        for item in db.session.scalars(query):
            if item.media is not None and item.media.anilist_id is not None:
                self.by_media[item.media.anilist_id] = item
            elif item.media is None:
                key = (catalog.normalise(item.title), item.media_type)
                self.title_only.setdefault(key, []).append(item)

    def match_title(self, entry: ListEntry) -> LibraryItem | None:
        """The one local title-only item this AniList title certainly is (none when two
        could be): it is linked, not doubled, and never matched twice."""
        record = entry["media"]
        if record is None:
            return None
        names = {catalog.normalise(n) for n in (*record["titles"].values(), *record["synonyms"])
                 if n}  # fmt: skip
        candidates = {
            item.id: item
            for name in names
            for item in self.title_only.get((name, record["type"]), [])
        }
        if len(candidates) != 1:
            return None
        (item,) = candidates.values()
        for items in self.title_only.values():
            if item in items:
                items.remove(item)
        self.by_media[entry["media_id"]] = item
        return item


@dataclass
class _Decision:
    """What one AniList entry means for the library (computed without writing)."""

    entry: ListEntry
    action: str  # add | unchanged | update | conflict | unmatched
    item: LibraryItem | None = None
    values: dict[str, Any] = field(default_factory=dict)
    differences: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # (local, remote)
    winner: str | None = None  # local | remote, for a conflict
    link: bool = False  # a title-only item that this entry now names


def _decide(state: _LibraryState, entry: ListEntry, policy: str) -> _Decision:
    if entry["media"] is None:
        return _Decision(entry, "unmatched")
    state.seen_media.add(entry["media_id"])
    linked = state.by_media.get(entry["media_id"])
    item = linked or state.match_title(entry)
    values = _values_from(entry)
    if item is None:
        return _Decision(entry, "add", values=values)
    link = linked is None
    remote_at = _from_unix(entry["updated_at"])
    if (
        item.anilist_entry_id == entry["entry_id"]
        and item.remote_updated_at is not None
        and remote_at is not None
        and remote_at <= item.remote_updated_at
    ):
        return _Decision(entry, "unchanged", item, values, link=link)  # not changed there
    differences = {
        name: (getattr(item, name), value)
        for name, value in values.items()
        if getattr(item, name) != value
    }
    if not differences:
        return _Decision(entry, "unchanged", item, values, link=link)
    if not _changed_here(item, state):
        return _Decision(entry, "update", item, values, differences, link=link)
    winner = _winner(item, remote_at, policy)
    return _Decision(entry, "conflict", item, values, differences, winner, link)


def _changed_here(item: LibraryItem, state: _LibraryState) -> bool:
    """Changed locally since the last sync (or never synced): then both sides count."""
    return item.id in state.pending or item.synced_at is None or item.updated_at > item.synced_at


def _winner(item: LibraryItem, remote_at: datetime | None, policy: str) -> str:
    """Which side's values stand for an entry changed on both sides.

    ``mine`` and ``theirs`` say it outright. ``newest`` compares the item's local
    change time with AniList's ``updatedAt`` (a tie keeps the local values). When
    AniList gives no ``updatedAt``, its time is unknown: a local edit made after the
    item was last synced (or, never synced, after it was created) wins; an item not
    touched since takes AniList's values.
    """
    if policy in ("mine", "theirs"):
        return "local" if policy == "mine" else "remote"
    if remote_at is None:
        since = item.synced_at or item.created_at
        return "local" if item.updated_at > since else "remote"
    return "local" if item.updated_at >= remote_at else "remote"


def _apply(
    state: _LibraryState,
    decision: _Decision,
    media: Media | None,
    media_type: str,
    origin: Origin,
    result: PullResult,
) -> LibraryItem | None:
    """Carry out one decision; returns the item when it is new (its event comes later)."""
    entry, item = decision.entry, decision.item
    if decision.action == "unmatched" or media is None:
        result.unmatched.append(f"AniList entry {entry['entry_id']}: no title data")
        return None
    now = utcnow()
    link = {"anilist_entry_id": entry["entry_id"],
            "remote_updated_at": _from_unix(entry["updated_at"]), "synced_at": now}  # fmt: skip
    if item is None:
        item = LibraryItem(user_id=state.user_id, media=media, media_type=media_type,
                           title=media.title_preferred, created_at=now, updated_at=now,
                           custom_lists=entry["custom_lists"], **decision.values,
                           **link)  # fmt: skip
        db.session.add(item)
        state.by_media[entry["media_id"]] = item
        result.added += 1
        return item
    if decision.link:
        item.media = media
    if item.custom_lists != entry["custom_lists"]:  # AniList's own grouping: it has the say
        item.custom_lists = entry["custom_lists"]
    if decision.action == "unchanged":
        result.unchanged += 1
    elif decision.action == "update":
        _take_remote(item, decision, now, origin)
        result.updated += 1
    else:
        _record_conflict(item, decision, origin)
        result.conflicts += 1
        if decision.winner == "remote":
            if item.id in state.pending:
                db.session.execute(delete(SyncOutbox).where(SyncOutbox.item_id == item.id))
                state.pending.discard(item.id)
            _take_remote(item, decision, now, origin, event=False)
            result.updated += 1
    for name, value in link.items():
        setattr(item, name, value)
    if decision.action == "conflict" and decision.winner == "local":
        outbox.note_change(item, "updated")  # AniList gets the local values
        state.pending.add(item.id)
    return None


def _take_remote(
    item: LibraryItem, decision: _Decision, now: datetime, origin: Origin, *, event: bool = True
) -> None:
    for name, (_local, remote_value) in decision.differences.items():
        setattr(item, name, remote_value)
    item.updated_at = now
    if event:
        changes = {name: [old, new] for name, (old, new) in decision.differences.items()}
        record_event(item, "updated", changes, origin)


def _record_conflict(item: LibraryItem, decision: _Decision, origin: Origin) -> None:
    """One history entry listing every field that differed, both values and who won."""
    remote_at = _from_unix(decision.entry["updated_at"])
    record_event(
        item,
        "conflict",
        {
            "winner": decision.winner,
            "local": {name: pair[0] for name, pair in decision.differences.items()},
            "remote": {name: pair[1] for name, pair in decision.differences.items()},
            "local_updated_at": item.updated_at.isoformat(),
            "remote_updated_at": remote_at.isoformat() if remote_at else None,
        },
        origin,
    )


def _create_missing_on_anilist(state: _LibraryState) -> None:
    """Local titles with an AniList id that AniList's list lacks: queued to be created."""
    for anilist_id, item in state.by_media.items():
        missing = anilist_id not in state.seen_media and item.anilist_entry_id is None
        if missing and item.id not in state.pending:
            outbox.note_change(item, "updated")
            state.pending.add(item.id)


def _values_from(entry: ListEntry) -> dict[str, Any]:
    return {
        "status": entry["status"] or "planning",
        "progress": entry["progress"],
        "progress_volumes": entry["progress_volumes"],
        "score": entry["score"] or None,  # AniList's 0 means "not scored"
        "notes": entry["notes"],
        "repeat": entry["repeat"],
        "private": entry["private"],
        "started_on": entry["started_at"],
        "completed_on": entry["completed_at"],
    }


def _forget_deleted_entries(state: _LibraryState, seen: set[int], result: PullResult) -> None:
    """Entries deleted on AniList: the local item stays (nothing is lost), unlinked from
    the entry, and the deletion is noted in its history."""
    for item in state.by_media.values():
        if item.anilist_entry_id is not None and item.anilist_entry_id not in seen:
            record_event(item, "conflict", {"remote": "deleted on AniList",
                                            "entry_id": item.anilist_entry_id},
                         Origin.ANILIST)  # fmt: skip
            item.anilist_entry_id = None
            item.remote_updated_at = None
            item.synced_at = None
            result.conflicts += 1


def _from_unix(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


# --- first connect -------------------------------------------------------------------------


def preview_first_sync(user_id: int) -> dict[str, Any]:
    """What merging with AniList would change, read from AniList and changing nothing.

    ``differ``: titles on both sides whose values differ (``local_newer`` /
    ``remote_newer``: which side the ``newest`` policy would keep); ``only_here``:
    titles with an AniList id that would be created on AniList; ``only_there``:
    entries that would be added here; ``examples``: a few differing fields, each with
    both values and the side ``newest`` would keep.
    """
    account = anilist.account_for(user_id)
    if account is None:
        raise MissingError("No AniList account is connected.")
    state = _LibraryState.load(user_id)
    preview: dict[str, Any] = {"pending": account.first_sync_pending, "entries": 0, "differ": 0,
                               "local_newer": 0, "remote_newer": 0, "only_there": 0,
                               "examples": []}  # fmt: skip
    try:
        for _media_type, answer in _read_list(_pull_client(account), account):
            for entry in answer["entries"]:
                _count(preview, _decide(state, entry, "newest"))
    except Unauthorized as error:
        raise AniListUnreachable("AniList refused the token: reconnect in Settings.") from error
    except ClientError as error:
        raise AniListUnreachable(f"{error.message}; try again in a moment.") from error
    preview["only_here"] = sum(
        1 for anilist_id, item in state.by_media.items()
        if anilist_id not in state.seen_media and item.anilist_entry_id is None
    )  # fmt: skip
    return preview


def _count(preview: dict[str, Any], decision: _Decision) -> None:
    preview["entries"] += 1
    if decision.action == "add":
        preview["only_there"] += 1
    if decision.action not in ("update", "conflict"):
        return
    winner = decision.winner or "remote"
    preview["differ"] += 1
    preview["local_newer" if winner == "local" else "remote_newer"] += 1
    for name, (local, remote_value) in decision.differences.items():
        if len(preview["examples"]) < PREVIEW_EXAMPLES:
            preview["examples"].append({"item_id": decision.item.id, "title": decision.item.title,
                                        "field": name, "local": local, "remote": remote_value,
                                        "winner": winner})  # fmt: skip


def settle_first_connect(user_id: int) -> Job | None:
    """Right after connecting: when there is nothing to choose (an empty library, or
    nothing that differs) the merge starts at once with ``newest``; otherwise the
    account waits for its owner's choice (None). AniList not answering: it waits too."""
    account = anilist.account_for(user_id)
    if account is None or not account.first_sync_pending:
        return None
    has_items = db.session.scalar(select(exists().where(LibraryItem.user_id == user_id)))
    if has_items:
        try:
            if preview_first_sync(user_id)["differ"]:
                return None
        except AniListUnreachable:
            return None
    account.first_sync_pending = False  # nothing to choose: pushes need not wait
    db.session.commit()
    return start_job(user_id, IMPORT)  # an import is that merge, with ``newest``


# --- jobs --------------------------------------------------------------------------------


def start_job(user_id: int, kind: str, *, policy: str = "newest", full: bool = False) -> Job:
    """Queue an import, sync or first sync (a ``full`` sync reads the whole list). An
    account never has more than one waiting or running: one already there is returned
    instead (a first-sync choice, or a full sync asked for after a sync, replaces a job
    that has not started yet)."""
    if anilist.account_for(user_id) is None:
        raise MissingError("Connect an AniList account first.")
    if policy not in POLICIES:
        raise invalid("policy", f"Choose one of: {', '.join(POLICIES)}.")
    params: dict[str, Any] = {}
    if kind == FIRST_SYNC:
        params = {"policy": policy}
    elif kind == SYNC and full:
        params = {"full": True}
    job = active_job(user_id)
    if job is None:
        job = Job(user_id=user_id, kind=kind, state="queued", done=0, params=params,
                  created_at=utcnow(), request_id=current_request_id())  # fmt: skip
        db.session.add(job)
        db.session.commit()
        # Two requests (or workers) may both have found none: the oldest one stays.
        first = active_job(user_id)
        if first is not None and first.id != job.id:
            removed = db.session.execute(
                delete(Job).where(Job.id == job.id, Job.state == "queued")
            ).rowcount
            db.session.commit()
            if removed:
                job = first
    elif (kind == FIRST_SYNC or (params and job.kind == kind)) and (
        job.kind, job.params) != (kind, params):  # fmt: skip
        db.session.execute(
            update(Job).where(Job.id == job.id, Job.state == "queued")
            .values(kind=kind, params=params)
        )  # fmt: skip
        db.session.commit()
        db.session.refresh(job)
    outbox.changes_waiting.set()
    return job


def active_job(user_id: int, kind: str | None = None) -> Job | None:
    """The user's queued or running AniList job (of ``kind``), if any."""
    query = select(Job).where(Job.user_id == user_id, Job.state.in_(("queued", "running")))
    query = query.where(Job.kind == kind) if kind is not None else query.where(
        Job.kind.in_(JOB_KINDS))  # fmt: skip
    return db.session.scalar(query.order_by(Job.id).limit(1))


def get_job(user_id: int, job_id: int) -> Job:
    job = db.session.scalar(select(Job).where(Job.id == job_id, Job.user_id == user_id))
    if job is None:
        raise MissingError("No such job.")
    return job


def run_next_job(now: datetime | None = None) -> Job | None:
    """Claim the oldest queued job and run it to the end."""
    job_id = db.session.scalar(
        select(Job.id).where(Job.state == "queued").order_by(Job.id).limit(1)
    )
    if job_id is None:
        return None
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == "queued")
        .values(state="running", started_at=utcnow())
    ).rowcount
    db.session.commit()
    job = db.session.get(Job, job_id)
    if not claimed or job is None:
        return None
    with request_context(job.request_id):  # logged under the request that queued it
        if job.kind in imports.JOB_KINDS:  # a file import: no AniList list to read
            imports.run_job(job)
        else:
            _run(job, now or utcnow())
    return job


def _run(job: Job, now: datetime) -> None:
    try:
        result = _pull_for(job, now)
    except Unauthorized:
        db.session.rollback()
        account = anilist.account_for(job.user_id)
        if account is not None:
            anilist.mark_needs_reauth(account, "AniList refused the token: reconnect in Settings.")
        jobs.finish(job, error="AniList refused the token: reconnect in Settings.")
    except (ClientError, ServiceError) as error:
        db.session.rollback()
        if isinstance(error, ClientError):
            _pull_failed(job.user_id, now)
        jobs.finish(job, error=getattr(error, "message", str(error)))
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Job %s failed", job.id)
        jobs.finish(job, error="The job stopped on an unexpected error; see the server log.")
        raise
    else:
        _pull_succeeded(job.user_id)
        jobs.finish(job, result=result.as_dict())


def _pull_for(job: Job, now: datetime) -> PullResult:
    """Import and first sync merge; a sync pushes first, then pulls. A sync asked for
    while the first choice is still open merges with ``newest`` (never pushes first)."""
    account = anilist.account_for(job.user_id)
    first = account is not None and account.first_sync_pending
    if job.kind == IMPORT:
        return pull(job.user_id, origin=Origin.IMPORT, job=job, merge="newest", now=now)
    if job.kind == FIRST_SYNC or first:
        policy = (job.params or {}).get("policy", "newest")
        return pull(job.user_id, origin=Origin.ANILIST, job=job, merge=policy, now=now)
    push_pending(user_id=job.user_id, now=now)
    full = bool((job.params or {}).get("full"))
    return pull(job.user_id, origin=Origin.ANILIST, job=job, full=full, now=now)


def _pull_failed(user_id: int, now: datetime) -> None:
    """Back off: PULL_BACKOFF_BASE · 2^(failures-1) s, jittered, at most PULL_BACKOFF_CAP."""
    account = anilist.account_for(user_id)
    if account is None:
        return
    account.pull_failures = (account.pull_failures or 0) + 1
    ceiling = min(PULL_BACKOFF_CAP, PULL_BACKOFF_BASE * 2 ** (account.pull_failures - 1))
    account.next_pull_at = now + timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def _pull_succeeded(user_id: int) -> None:
    account = anilist.account_for(user_id)
    if account is not None:
        account.pull_failures = 0
        account.next_pull_at = None


def queue_periodic_pulls(now: datetime | None = None) -> int:
    """Queue a sync for every healthy account not pulled for PULL_INTERVAL seconds, past
    its backoff, waiting for no first choice and with no pull already queued or running;
    returns how many were queued."""
    interval = float(current_app.config["ANILIST_PULL_INTERVAL"])
    if interval <= 0:
        return 0
    now = now or utcnow()
    cutoff = now - timedelta(seconds=interval)
    busy = exists().where(
        Job.user_id == AniListAccount.user_id, Job.state.in_(("queued", "running"))
    )
    due = db.session.scalars(
        select(AniListAccount.user_id).where(
            AniListAccount.state == anilist.OK,
            ~AniListAccount.first_sync_pending,
            (AniListAccount.last_pull_at.is_(None)) | (AniListAccount.last_pull_at < cutoff),
            (AniListAccount.next_pull_at.is_(None)) | (AniListAccount.next_pull_at <= now),
            ~busy,
        )
    ).all()
    for user_id in due:
        start_job(user_id, SYNC)
    return len(due)


def prune_finished_jobs(now: datetime | None = None) -> int:
    """Remove jobs finished more than TRACKER_JOB_RETENTION_DAYS ago."""
    days = float(current_app.config["JOB_RETENTION_DAYS"])
    cutoff = (now or utcnow()) - timedelta(days=days)
    removed = db.session.execute(
        delete(Job).where(Job.state.in_(("done", "failed")), Job.finished_at < cutoff)
    ).rowcount
    db.session.commit()
    return removed


# --- the worker's round ------------------------------------------------------------------


def work_once(now: datetime | None = None) -> bool:
    """One round of the worker: due pushes first (they have the budget before pulls),
    then a queued job, periodic pulls, and now and then the pruning of old jobs and
    the removal of expired search answers. A step that fails is logged and the
    others still run."""
    now = now or utcnow()
    delivered = _step("push", lambda: push_pending(now=now), 0)
    ran = _step("job", lambda: run_next_job(now), None)
    _step("periodic pulls", lambda: queue_periodic_pulls(now), 0)
    _step("airing refresh", lambda: refresh_airing_now_and_then(now), None)
    if _due("prune_jobs", now, PRUNE_EVERY):
        _step("job pruning", lambda: prune_finished_jobs(now), 0)
        _step("kept import files", lambda: imports.forget_old_files(now), 0)
        _step("sign-in throttle clean-up", throttle.forget_quiet, 0)
    _step("search cache clean-up", lambda: remote().purge_expired_answers(), None)
    return bool(delivered) or ran is not None


def refresh_airing_now_and_then(now: datetime) -> airing.RefreshReport | None:
    """Every TRACKER_AIRING_REFRESH_MINUTES, one request's worth of airing refresh a
    round (a round must stay short: pushes wait for it), round after round while a
    full batch came back and AniList answered."""
    every = float(current_app.config["AIRING_REFRESH_MINUTES"])
    if every <= 0 or not _due("airing_refresh", now, timedelta(minutes=every)):
        return None
    report = airing.run(limit=airing.BATCH, patient=False, now=now)
    if report.planned == airing.BATCH and report.error is None:
        current_app.extensions["tracker.worker_timers"]["airing_refresh"] = now  # more due
    return report


def _step(name: str, run, failed):
    try:
        return run()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Worker step '%s' failed; the round goes on", name)
        return failed


def _due(task: str, now: datetime, every: timedelta) -> bool:
    """True at most once per ``every`` for ``task`` in this app (by the round's clock)."""
    timers = current_app.extensions.setdefault("tracker.worker_timers", {})
    if now < timers.get(task, now):
        return False
    timers[task] = now + every
    return True
