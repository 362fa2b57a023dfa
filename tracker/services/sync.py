"""Two-way sync with AniList (DESIGN §6).

Push: the worker drains ``sync_outbox``. A row is leased by moving its
``next_attempt_at`` forward (compare-and-set, with ``SKIP LOCKED`` on PostgreSQL),
so several workers never send the same row together; after a send it is removed
only if no edit arrived meanwhile, otherwise the newer state goes out next.
Pull: pending pushes go first, then the whole list is read and applied. An entry
changed on both sides since the last sync is settled last-write-wins and written
to the item's history as a conflict. Import is the same pull, recorded as ``import``.
"""

from __future__ import annotations

import random
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update

from tracker.clients import (
    BadResponse,
    ClientError,
    ListEntry,
    NotFound,
    RateLimited,
    Unauthorized,
)
from tracker.extensions import db
from tracker.models import (
    AniListAccount,
    Job,
    LibraryItem,
    Media,
    Origin,
    SyncOutbox,
    utcnow,
)
from tracker.services import anilist, catalog, outbox
from tracker.services.errors import NotFound as MissingError
from tracker.services.errors import ServiceError
from tracker.services.library import record_event
from tracker.services.remote import remote

LEASE = timedelta(seconds=60)  # a worker that dies mid-push frees its rows after this
MAX_RETRY_GAP = 30.0  # seconds: failed pushes are retried at most this far apart
REAUTH_RETRY = timedelta(seconds=30)
PUSH_BATCH = 50
JOB_KINDS = ("anilist_import", "anilist_sync")
ENTRY_FIELDS = ("status", "progress", "progress_volumes", "score", "notes", "repeat",
                "private", "started_on", "completed_on")  # fmt: skip


# --- push ------------------------------------------------------------------------------


def push_pending(*, user_id: int | None = None, now: datetime | None = None) -> int:
    """Send due outbox rows (oldest first); returns how many were delivered."""
    now = now or utcnow()
    delivered = 0
    leased = _lease_due_rows(user_id, now)
    for position, (row_id, seen) in enumerate(leased):
        row = db.session.get(SyncOutbox, row_id)
        if row is None:
            continue
        try:
            delivered += _push(row, seen, now)
        except RateLimited as error:
            # The budget is closed for everyone: this row and the rest of the round
            # wait for it, rather than for their lease to run out.
            waiting = [leased_id for leased_id, _ in leased[position:]]
            _reschedule(waiting, now + timedelta(seconds=error.retry_after), str(error))
            break
        db.session.commit()
    return delivered


def _lease_due_rows(user_id: int | None, now: datetime) -> list[tuple[int, datetime]]:
    query = (
        select(SyncOutbox.id, SyncOutbox.next_attempt_at, SyncOutbox.updated_at)
        .where(SyncOutbox.next_attempt_at <= now)
        .order_by(SyncOutbox.id)
        .limit(PUSH_BATCH)
        .with_for_update(skip_locked=True)  # PostgreSQL: other workers skip these rows
    )
    if user_id is not None:
        query = query.where(SyncOutbox.user_id == user_id)
    leased = []
    for row_id, due, updated in db.session.execute(query).all():
        taken = db.session.execute(
            update(SyncOutbox)
            .where(SyncOutbox.id == row_id, SyncOutbox.next_attempt_at == due)
            .values(next_attempt_at=now + LEASE)
        ).rowcount
        if taken:
            leased.append((row_id, updated))
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
    try:
        client = anilist.client_for(account)
        entry = _send(client, row)
    except Unauthorized:
        anilist.mark_needs_reauth(account, "AniList refused the token: reconnect in Settings.")
        row.next_attempt_at = now + REAUTH_RETRY
        row.last_error = account.last_error
        return 0
    except RateLimited:
        raise
    except ClientError as error:
        row.attempts += 1
        row.last_error = str(error)  # "AniList unreachable: HTTP 503"
        row.next_attempt_at = now + timedelta(seconds=_retry_gap(row.attempts))
        account.last_error = f"Waiting for AniList: {error}"
        return 0
    _delivered(row, seen, entry, now)
    account.last_sync_at = now
    account.last_error = None
    return 1


def _send(client, row: SyncOutbox) -> ListEntry | None:
    if row.op == "delete":
        if row.anilist_entry_id is None:
            return None
        with suppress(NotFound):  # already gone on AniList: that is what we wanted
            client.delete_entry(row.anilist_entry_id)
        return None
    item = db.session.get(LibraryItem, row.item_id)
    if item is None:
        return None
    fields = _entry_values(item)
    if item.anilist_entry_id is not None:
        try:
            return client.save_entry(entry_id=item.anilist_entry_id, **fields)
        except (NotFound, BadResponse):
            pass  # the entry was deleted on AniList: the local change creates it again
    return client.save_entry(media_id=row.anilist_media_id, **fields)


def _entry_values(item: LibraryItem) -> dict[str, Any]:
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
        values: dict[str, Any] = {"next_attempt_at": now, "attempts": 0, "last_error": None}
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


# --- pull --------------------------------------------------------------------------------


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


def pull(user_id: int, *, origin: Origin, job: Job | None = None) -> PullResult:
    """Read the user's whole AniList list and apply what changed there.

    The library is loaded once; each chunk of up to 500 entries costs one catalogue
    query, batched inserts for what is new, and one commit (progress shows, and an
    interrupted import keeps what it finished).
    """
    account = anilist.account_for(user_id)
    if account is None:
        raise MissingError("No AniList account is connected.")
    client = anilist.client_for(account)
    state = _LibraryState.load(user_id)
    result = PullResult()
    seen_entries: set[int] = set()
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        for media_type in ("anime", "manga"):
            chunk, more = 1, True
            while more:
                answer = client.media_list_collection(account.anilist_user_id, media_type, chunk)
                entries = answer["entries"]
                stored = catalog.upsert_records(e["media"] for e in entries if e["media"])
                media = {m.anilist_id: m for m in stored}
                created = []
                for entry in entries:
                    seen_entries.add(entry["entry_id"])
                    media_of = media.get(entry["media_id"])
                    item = _apply(state, entry, media_of, media_type, origin, result)
                    if item is not None:
                        created.append(item)
                db.session.flush()  # the new items get their ids in one batch
                for item in created:
                    record_event(item, "created", {"title": [None, item.title]}, origin)
                if job is not None:
                    job.done += len(entries)
                    job.total = max(job.total or 0, job.done)
                db.session.commit()
                chunk, more = chunk + 1, answer["has_next_chunk"]
        _forget_deleted_entries(state, seen_entries, result)
        account.last_pull_at = account.last_sync_at = utcnow()
        db.session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
    return result


@dataclass
class _LibraryState:
    user_id: int
    by_media: dict[int, LibraryItem]
    title_only: dict[tuple[str, str], list[LibraryItem]]
    pending: set[int]

    @classmethod
    def load(cls, user_id: int) -> _LibraryState:
        items = db.session.scalars(select(LibraryItem).where(LibraryItem.user_id == user_id))
        by_media: dict[int, LibraryItem] = {}
        title_only: dict[tuple[str, str], list[LibraryItem]] = {}
        for item in items:
            if item.media is not None and item.media.anilist_id is not None:
                by_media[item.media.anilist_id] = item
            elif item.media is None:
                key = (catalog.normalise(item.title), item.media_type)
                title_only.setdefault(key, []).append(item)
        pending = set(
            db.session.scalars(select(SyncOutbox.item_id).where(SyncOutbox.user_id == user_id))
        )
        return cls(user_id, by_media, title_only, pending)


def _apply(
    state: _LibraryState,
    entry: ListEntry,
    media: Media | None,
    media_type: str,
    origin: Origin,
    result: PullResult,
) -> LibraryItem | None:
    """Apply one AniList entry; returns the item when it is new (its event comes later)."""
    if media is None:
        result.unmatched.append(f"AniList entry {entry['entry_id']}: no title data")
        return None
    item = state.by_media.get(entry["media_id"]) or _link_title_only(state, media)
    values = _values_from(entry)
    remote_at = _from_unix(entry["updated_at"])
    link = {"anilist_entry_id": entry["entry_id"], "remote_updated_at": remote_at,
            "synced_at": utcnow()}  # fmt: skip
    lists = entry["custom_lists"]
    if item is None:
        now = utcnow()
        item = LibraryItem(user_id=state.user_id, media=media, media_type=media_type,
                           title=media.title_preferred, created_at=now, updated_at=now,
                           custom_lists=lists, **values, **link)  # fmt: skip
        db.session.add(item)
        state.by_media[entry["media_id"]] = item
        result.added += 1
        return item
    if item.custom_lists != lists:  # AniList's own grouping: it always has the say
        item.custom_lists = lists
    if (
        item.anilist_entry_id == entry["entry_id"]
        and item.remote_updated_at is not None
        and remote_at is not None
        and remote_at <= item.remote_updated_at
    ):
        result.unchanged += 1
        return None  # AniList has not changed it since we last saw it
    if item.id in state.pending and _local_wins(item, remote_at):
        record_event(item, "conflict", {"winner": "local", "remote": values}, origin)
        result.conflicts += 1
    else:
        before = {name: getattr(item, name) for name in ENTRY_FIELDS}
        changes = {k: [before[k], v] for k, v in values.items() if before[k] != v}
        if item.id in state.pending:
            db.session.execute(delete(SyncOutbox).where(SyncOutbox.item_id == item.id))
            state.pending.discard(item.id)
            record_event(item, "conflict", {"winner": "remote", "local": before}, origin)
            result.conflicts += 1
        if changes:
            for name, value in values.items():
                setattr(item, name, value)
            item.updated_at = utcnow()
            record_event(item, "updated", changes, origin)
            result.updated += 1
        else:
            result.unchanged += 1
    for name, value in link.items():
        setattr(item, name, value)
    return None


def _link_title_only(state: _LibraryState, media) -> LibraryItem | None:
    """A local title-only item that this AniList title certainly is: linked, not doubled."""
    names = {catalog.normalise(n) for n in (media.title_romaji, media.title_english,
                                            media.title_native, *media.synonyms) if n}  # fmt: skip
    candidates = [
        item for name in names for item in state.title_only.get((name, media.media_type), [])
    ]
    if len({c.id for c in candidates}) != 1:
        return None
    item = candidates[0]
    item.media = media
    for items in state.title_only.values():
        if item in items:
            items.remove(item)
    return item


def _local_wins(item: LibraryItem, remote_at: datetime | None) -> bool:
    return remote_at is None or item.updated_at >= remote_at


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
    the entry that is gone; a later local edit creates it again."""
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


# --- jobs --------------------------------------------------------------------------------


def start_job(user_id: int, kind: str) -> Job:
    """Queue an import or sync; one already waiting for this user is reused."""
    if anilist.account_for(user_id) is None:
        raise MissingError("Connect an AniList account first.")
    job = active_job(user_id, kind)
    if job is None:
        job = Job(user_id=user_id, kind=kind, state="queued", done=0, params={},
                  created_at=utcnow())  # fmt: skip
        db.session.add(job)
        db.session.commit()
    outbox.changes_waiting.set()
    return job


def active_job(user_id: int, kind: str | None = None) -> Job | None:
    """The user's queued or running job (of ``kind``), if any."""
    query = select(Job).where(Job.user_id == user_id, Job.state.in_(("queued", "running")))
    if kind is not None:
        query = query.where(Job.kind == kind)
    return db.session.scalar(query.order_by(Job.id).limit(1))


def get_job(user_id: int, job_id: int) -> Job:
    job = db.session.scalar(select(Job).where(Job.id == job_id, Job.user_id == user_id))
    if job is None:
        raise MissingError("No such job.")
    return job


def run_next_job() -> Job | None:
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
    _run(job)
    return job


def _run(job: Job) -> None:
    origin = Origin.IMPORT if job.kind == "anilist_import" else Origin.ANILIST
    try:
        if job.kind == "anilist_sync":
            push_pending(user_id=job.user_id)
        result = pull(job.user_id, origin=origin, job=job)
    except Unauthorized:
        db.session.rollback()
        account = anilist.account_for(job.user_id)
        if account is not None:
            anilist.mark_needs_reauth(account, "AniList refused the token: reconnect in Settings.")
        _finish(job, error="AniList refused the token: reconnect in Settings.")
    except (ClientError, ServiceError) as error:
        db.session.rollback()
        _finish(job, error=getattr(error, "message", str(error)))
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Job %s failed", job.id)
        _finish(job, error="The job stopped on an unexpected error; see the server log.")
        raise
    else:
        _finish(job, result=result.as_dict())


def _finish(job: Job, *, result: dict | None = None, error: str | None = None) -> None:
    job.state = "failed" if error else "done"
    job.result = result
    job.error = error
    job.finished_at = utcnow()
    db.session.commit()


def queue_periodic_pulls(now: datetime | None = None) -> int:
    """Queue a sync for every healthy account not pulled for PULL_INTERVAL seconds."""
    interval = float(current_app.config["ANILIST_PULL_INTERVAL"])
    if interval <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(seconds=interval)
    due = db.session.scalars(
        select(AniListAccount.user_id).where(
            AniListAccount.state == anilist.OK,
            (AniListAccount.last_pull_at.is_(None)) | (AniListAccount.last_pull_at < cutoff),
        )
    ).all()
    for user_id in due:
        start_job(user_id, "anilist_sync")
    return len(due)


def work_once(now: datetime | None = None) -> bool:
    """One round of the worker: queued jobs, then due pushes, then periodic pulls,
    and now and then the removal of expired search answers."""
    did = run_next_job() is not None
    did = push_pending(now=now) > 0 or did
    queue_periodic_pulls(now)
    remote().purge_expired_answers()
    return did
