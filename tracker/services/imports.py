"""Importing a file (MyAnimeList, Yamtrack, this app's own): preview, then apply.

The upload is read at once (a file that is no export is refused there and then); the
rows are kept with a background job, which matches them to the catalogue and says what
importing would do. Applying (at once, or later from the preview without uploading
again) is one transaction: a failure leaves the library as it was.

Matching: AniList ids as they are; MAL ids through the local catalogue first, then
AniList, 50 ids a request within the shared budget (every answer is stored in the
catalogue). A row AniList cannot name (unreachable, or no such MAL id) becomes a
title-only item that ``flask tracker backfill`` can link later. A row with no id is the
library's item of exactly that title (normalised), or a new title-only item.

AniList: pushing is the person's explicit choice (``push``). Without it nothing is
queued, and a title on the AniList list (the item has an AniList entry) keeps AniList's
values even in ``overwrite`` mode: the file has no time of change per entry, so it can
never be shown newer than AniList's ``updatedAt``; and a value written here would reach
AniList anyway with the item's next edit (a push sends the whole entry) or win a later
merge by its change time (``sync._winner``). Such titles are counted in
``left_for_anilist``. With ``push``, every title the import adds or changes that AniList
knows is queued for AniList as it is after the import; ``would_push`` (in the preview
too) counts them whenever an account is connected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from tracker.clients import ClientError, MediaRecord
from tracker.extensions import db
from tracker.logs import current_request_id
from tracker.models import ItemEvent, Job, LibraryItem, Media, Origin, utcnow
from tracker.portability import ImportRow, ParsedFile, Skipped, UnreadableFile
from tracker.portability.detect import read_file
from tracker.services import anilist, catalog, jobs, outbox
from tracker.services.errors import Conflict, NotFound, ServiceError, invalid
from tracker.services.library import record_event, unit_for
from tracker.services.remote import remote

PREVIEW, APPLY = "library_import", "library_import_apply"
JOB_KINDS = (PREVIEW, APPLY)
MODES = ("add", "overwrite")
# The fields a file can set on an item; a value the file leaves empty never clears one.
FIELDS = ("status", "progress", "progress_volumes", "score", "notes", "repeat",
          "started_on", "completed_on")  # fmt: skip
BATCH = 50  # AniList's largest page
LOOKUP_CHUNK = 500  # ids per catalogue query
FILE_KEPT = timedelta(days=1)  # how long a preview can be applied without uploading again
TIMES = ("created_at", "updated_at")  # of a row from this app's own export
OWN_FORMATS = ("json", "csv")  # this app's own exports: items come back as they were
EVENT_TIMES = ("at", "resolved_at")

Progress = Callable[[int], Any]


@dataclass
class _Row:
    """One imported row and what it means for the library (decided without writing)."""

    data: ImportRow
    media: Media | None = None
    note: str | None = None  # why it was not linked to the catalogue
    action: str = "add"  # add | update | unchanged | kept | skip
    item: LibraryItem | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    link: bool = False  # a title-only item this row names


@dataclass
class Plan:
    user_id: int
    format: str
    mode: str
    push: bool
    connected: bool
    rows: list[_Row] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def result(self, *, dry_run: bool) -> dict[str, Any]:
        counts = {action: 0 for action in ("add", "update", "unchanged", "kept")}
        for row in self.rows:
            counts[row.action] += 1
        unmatched = [{"row": s.row, "title": s.title, "reason": s.reason} for s in self.skipped]
        unmatched += [{"row": r.data.row, "title": r.data.title, "reason": r.note}
                      for r in self.rows if r.note]  # fmt: skip
        unmatched.sort(key=lambda entry: entry["row"])
        return {
            "format": self.format,
            "dry_run": dry_run,
            "mode": self.mode,
            "push": self.push,
            "added": counts["add"],
            "updated": counts["update"],
            "unchanged": counts["unchanged"] + counts["kept"],
            "skipped": len(self.skipped),
            "unmatched": unmatched,
            # Changes AniList would get with ``push`` (0 when no account is connected).
            "would_push": sum(1 for r in self.rows if self._pushable(r)),
            # Titles on the AniList list that differ and were left as AniList has them.
            "left_for_anilist": counts["kept"],
        }

    def _pushable(self, row: _Row) -> bool:
        linked = row.media is not None and row.media.anilist_id is not None
        return self.connected and linked and row.action in ("add", "update", "kept")


# --- starting ------------------------------------------------------------------------


def start_import(
    user_id: int,
    data: bytes,
    *,
    filename: str | None = None,
    format: str | None = None,
    dry_run: bool = True,
    mode: str = "add",
    push: bool = False,
) -> Job:
    """Read the upload and queue its import (a preview when ``dry_run``)."""
    _check_mode(mode)
    try:
        parsed = read_file(data, format=format, filename=filename)
    except UnreadableFile as error:
        raise invalid("file", str(error)) from None
    payload = {"format": parsed.format, "filename": (filename or "")[:200],
               "rows": [_compact(asdict(row)) for row in parsed.rows],
               "skipped": [asdict(s) for s in parsed.skipped]}  # fmt: skip
    params = {"dry_run": dry_run, "mode": mode, "push": push, "format": parsed.format}
    return _queue(user_id, PREVIEW, params, payload, len(parsed.rows) + len(parsed.skipped))


def start_apply(user_id: int, preview_id: int, *, mode: str = "add", push: bool = False) -> Job:
    """Apply a preview's file, kept with its job, without uploading it again."""
    _check_mode(mode)
    preview = db.session.scalar(
        select(Job).where(Job.id == preview_id, Job.user_id == user_id, Job.kind == PREVIEW)
    )
    if preview is None:
        raise NotFound("No such import, or not yours.")
    if preview.payload is None:
        raise Conflict("This import's file is no longer kept: upload it again.")
    params = {"dry_run": False, "mode": mode, "push": push, "preview": preview.id,
              "format": preview.params.get("format")}  # fmt: skip
    return _queue(user_id, APPLY, params, None, preview.total)


def _queue(user_id: int, kind: str, params: dict, payload: dict | None, total: int | None) -> Job:
    job = Job(user_id=user_id, kind=kind, state="queued", done=0, total=total, params=params,
              payload=payload, created_at=utcnow(), request_id=current_request_id())  # fmt: skip
    db.session.add(job)
    db.session.commit()
    outbox.changes_waiting.set()  # wakes an in-process worker
    return job


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise invalid("mode", f"Choose one of: {', '.join(MODES)}.")


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON without the values it has by default (a 10,000-row file stays a few
    MB); times as ISO strings (``_expand`` reads them back)."""
    defaults = {"progress": 0, "repeat": 0, "private": False, "custom_lists": [], "events": []}
    kept = {k: v for k, v in values.items() if v is not None and defaults.get(k, ...) != v}
    for name in TIMES:
        if name in kept:
            kept[name] = kept[name].isoformat()
    if "events" in kept:
        kept["events"] = [{k: v.isoformat() if isinstance(v, datetime) else v
                           for k, v in event.items()} for event in kept["events"]]  # fmt: skip
    return kept


def _expand(values: dict[str, Any]) -> ImportRow:
    values = dict(values)
    for name in TIMES:
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    if values.get("events"):
        values["events"] = [{k: datetime.fromisoformat(v) if k in EVENT_TIMES and v else v
                             for k, v in event.items()} for event in values["events"]]  # fmt: skip
    return ImportRow(**values)


# --- running (the worker) ------------------------------------------------------------------


def run_job(job: Job) -> None:
    """Match the job's rows and preview them, or apply them; the result goes on the job."""
    params = job.params or {}
    try:
        parsed = _parsed_of(job)
        plan = plan_import(job.user_id, parsed, mode=params.get("mode", "add"),
                           push=bool(params.get("push")), job=job)  # fmt: skip
        result = plan.result(dry_run=True) if params.get("dry_run", True) else apply(plan)
    except ServiceError as error:
        db.session.rollback()
        jobs.finish(job, error=error.message)
    except Exception:
        db.session.rollback()
        jobs.finish(job, error="The import stopped on an unexpected error; nothing was imported.")
        raise
    else:
        job.done = job.total or 0
        jobs.finish(job, result=result)


def _parsed_of(job: Job) -> ParsedFile:
    source = job
    if job.kind == APPLY:
        source = db.session.get(Job, (job.params or {}).get("preview"))
        if source is None or source.user_id != job.user_id or source.payload is None:
            raise Conflict("The previewed file is no longer kept: upload it again.")
    payload = source.payload or {}
    return ParsedFile(
        payload.get("format", "mal"),
        rows=[_expand(row) for row in payload.get("rows", [])],
        skipped=[Skipped(**row) for row in payload.get("skipped", [])],
    )


def forget_old_files(now: datetime | None = None) -> int:
    """Drop the kept files of imports started more than FILE_KEPT ago."""
    cutoff = (now or utcnow()) - FILE_KEPT
    forgotten = db.session.execute(
        update(Job)
        .where(Job.kind == PREVIEW, Job.payload.is_not(None), Job.created_at < cutoff)
        .values(payload=None)
    ).rowcount
    db.session.commit()
    return forgotten


# --- planning --------------------------------------------------------------------------


def plan_import(
    user_id: int,
    parsed: ParsedFile,
    *,
    mode: str = "add",
    push: bool = False,
    job: Job | None = None,
    progress: Progress = lambda _n: None,
) -> Plan:
    """What importing ``parsed`` would do, writing nothing to the library (the catalogue
    learns what AniList answered)."""
    _check_mode(mode)
    plan = Plan(user_id, parsed.format, mode, push, anilist.account_for(user_id) is not None,
                skipped=list(parsed.skipped))  # fmt: skip
    rows = _without_duplicates(parsed.rows, plan.skipped)
    # Matching commits after each AniList answer: what was loaded stays loaded (else each
    # catalogue entry would be read again, one statement apiece).
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        _match(rows, job, progress)
    finally:
        session.expire_on_commit = expire_on_commit
    library = _Library.load(user_id)
    taken: dict[int, int] = {}  # item id → the row that already names it
    for row in rows:
        _decide(row, library, mode, plan, taken)
    plan.rows = [row for row in rows if row.action != "skip"]
    return plan


def _without_duplicates(rows: Iterable[ImportRow], skipped: list[Skipped]) -> list[_Row]:
    first: dict[tuple, int] = {}
    kept = []
    for data in rows:
        if data.anilist_id:
            key: tuple = (data.type, "anilist", data.anilist_id)
        elif data.mal_id:
            key = (data.type, "mal", data.mal_id)
        else:
            key = (data.type, "title", catalog.normalise(data.title))
        if key in first:
            skipped.append(Skipped(data.row, data.title, f"The same title as row {first[key]}."))
            continue
        first[key] = data.row
        kept.append(_Row(data))
    return kept


def _match(rows: list[_Row], job: Job | None, progress: Progress) -> None:
    """Catalogue entries for the rows' ids: the local catalogue, then AniList."""
    by_anilist = _local(Media.anilist_id, {r.data.anilist_id for r in rows if r.data.anilist_id})
    wanted_mal: dict[str, set[int]] = {"anime": set(), "manga": set()}
    for row in rows:
        if row.data.mal_id and not row.data.anilist_id:
            wanted_mal[row.data.type].add(row.data.mal_id)
    by_mal = {
        (media.media_type, media.mal_id): media
        for kind, ids in wanted_mal.items()
        for media in _local(Media.mal_id, ids, Media.media_type == kind).values()
    }
    missing_anilist = sorted({r.data.anilist_id for r in rows if r.data.anilist_id}
                             - set(by_anilist))  # fmt: skip
    missing_mal = {kind: sorted(i for i in ids if (kind, i) not in by_mal)
                   for kind, ids in wanted_mal.items()}  # fmt: skip
    unreachable = _ask_anilist(missing_anilist, missing_mal, by_anilist, by_mal, job, progress)
    for row in rows:
        data = row.data
        if data.anilist_id:
            row.media = by_anilist.get(data.anilist_id) or catalog.get_or_create_media(
                "anilist", str(data.anilist_id), media_type=data.type)  # fmt: skip
        elif data.mangadex_id:
            row.media = catalog.get_or_create_media("mangadex", data.mangadex_id,
                                                    media_type=data.type)  # fmt: skip
        elif data.mal_id:
            row.media = by_mal.get((data.type, data.mal_id))
            if row.media is None:
                why = unreachable or f"AniList knows no {data.type} with MAL id {data.mal_id}"
                row.note = (f"{why}: imported by its title (MAL id {data.mal_id}); "
                            "`flask tracker backfill` can link it later.")  # fmt: skip


def _local(column, ids: set[int], *criteria) -> dict[int, Media]:
    """Catalogue entries by ``column``; of two with one id, AniList's lowest id."""
    found: dict[int, Media] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start : start + LOOKUP_CHUNK]
        query = select(Media).where(column.in_(chunk), *criteria).order_by(
            Media.source != "anilist", Media.anilist_id, Media.id)  # fmt: skip
        for media in db.session.scalars(query):
            found.setdefault(getattr(media, column.key), media)
    return found


def _ask_anilist(
    anilist_ids: list[int],
    mal_ids: dict[str, list[int]],
    by_anilist: dict[int, Media],
    by_mal: dict[tuple[str, int], Media],
    job: Job | None,
    progress: Progress,
) -> str | None:
    """Ask AniList for what the catalogue lacks, 50 ids a request; None when it answered
    every request, else why it could not be asked (the rest is left unmatched)."""
    requests: list[tuple[str | None, list[int]]] = [
        (None, anilist_ids[i : i + BATCH]) for i in range(0, len(anilist_ids), BATCH)
    ]
    for kind, ids in mal_ids.items():
        requests += [(kind, ids[i : i + BATCH]) for i in range(0, len(ids), BATCH)]
    client = remote().anilist
    for kind, ids in requests:  # grows when a full page leaves some ids unanswered
        db.session.commit()  # no transaction stays open while AniList answers
        try:
            records: list[MediaRecord] = (client.media_by_ids(ids) if kind is None
                                          else client.media_by_mal_ids(ids, kind))  # fmt: skip
        except ClientError as error:
            return f"AniList could not be reached ({error})"
        for media in _store(records):
            if kind is None:
                by_anilist[media.anilist_id] = media
            elif media.mal_id is not None:  # AniList's lowest id, as in ``_local``
                by_mal.setdefault((kind, media.mal_id), media)
        answered = {r["anilist_id"] if kind is None else r["mal_id"] for r in records}
        unanswered = [i for i in ids if i not in answered]
        if len(records) >= BATCH and 0 < len(unanswered) < len(ids):
            # A full page: two titles with one MAL id crowded the rest out; ask again.
            requests.append((kind, unanswered))
        if job is not None:
            job.done = min((job.done or 0) + len(ids), job.total or 0)
        db.session.commit()
        progress(len(ids))
    return None


def _store(records: list[MediaRecord]) -> list[Media]:
    try:
        return catalog.upsert_records(records)
    except IntegrityError:  # another process stored one of these a moment ago
        db.session.rollback()
        return catalog.upsert_records(records)


@dataclass
class _Library:
    by_media: dict[int, LibraryItem]
    by_title: dict[tuple[str, str], list[LibraryItem]]

    @classmethod
    def load(cls, user_id: int) -> _Library:
        library = cls({}, {})
        for item in db.session.scalars(select(LibraryItem).where(LibraryItem.user_id == user_id)):
            if item.media_id is not None:
                library.by_media[item.media_id] = item
            key = (catalog.normalise(item.title), item.media_type)
            library.by_title.setdefault(key, []).append(item)
        return library

    def find(self, row: _Row) -> tuple[LibraryItem | None, bool]:
        """The item this row names, and whether it is a title-only item to be linked."""
        if row.media is not None and row.media.id in self.by_media:
            return self.by_media[row.media.id], False
        candidates = self.by_title.get((catalog.normalise(row.data.title), row.data.type), [])
        if row.media is not None:
            candidates = [item for item in candidates if item.media_id is None]
        if len(candidates) != 1:
            return None, False
        return candidates[0], row.media is not None


def _decide(row: _Row, library: _Library, mode: str, plan: Plan, taken: dict[int, int]) -> None:
    data = row.data
    item, link = library.find(row)
    if item is not None and item.id in taken:
        _skip(row, plan, f"The same title as row {taken[item.id]}.")
        return
    limit = _limit(row, item)
    if limit is not None and data.progress > limit:
        unit = unit_for(data.type)
        _skip(row, plan, f"Progress {data.progress} is past the last {unit} ({limit}).")
        return
    if item is None:
        row.action = "add"
        return
    taken[item.id] = data.row
    row.item, row.link = item, link
    if mode == "add":
        row.action = "update" if link else "unchanged"
        return
    row.changes = {name: [getattr(item, name), value] for name in FIELDS
                   if (value := _value(data, name)) is not None
                   and getattr(item, name) != value}  # fmt: skip
    if row.changes and not plan.push and item.anilist_entry_id is not None and plan.connected:
        row.action = "kept"  # on the AniList list: AniList's values stand (see the module)
        row.changes = {}
        return
    row.action = "update" if row.changes or link else "unchanged"


def _value(data: ImportRow, name: str) -> Any:
    value = getattr(data, name)
    return value if value != "" else None


def _limit(row: _Row, item: LibraryItem | None) -> int | None:
    if item is not None and item.max_progress is not None:
        return item.max_progress
    if row.media is not None and row.media.total is not None:
        return row.media.total
    return None if row.media is not None else row.data.max_progress


def _skip(row: _Row, plan: Plan, reason: str) -> None:
    row.action = "skip"
    plan.skipped.append(Skipped(row.data.row, row.data.title, reason))


# --- applying ----------------------------------------------------------------------------


def apply(plan: Plan, progress: Progress = lambda _n: None) -> dict[str, Any]:
    """Carry out the plan in one transaction; its result. Nothing is written when any
    part fails."""
    now = utcnow()
    try:
        own = plan.format in OWN_FORMATS
        created = []
        for row in plan.rows:
            if row.action == "add":
                _new_item(plan.user_id, row, now, own=own)
                created.append(row)
            elif row.action == "update":
                _update(row, now)
            progress(1)
        db.session.flush()  # the new items get their ids in one batch
        history = [event for row in created for event in _history_of(row, now)]
        if history:
            db.session.execute(insert(ItemEvent.__table__), history)
        if plan.push and plan.connected:
            for row in plan.rows:
                if row.action in ("add", "update") and row.item is not None:
                    outbox.note_change(row.item, "updated", linked=True)
        result = plan.result(dry_run=False)  # before the commit expires what it reads
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            "The library changed while importing (a title was added meanwhile); nothing "
            "was imported: try again."
        ) from None
    except Exception:
        db.session.rollback()
        raise
    return result


def _new_item(user_id: int, row: _Row, now: datetime, *, own: bool) -> LibraryItem:
    """A new item for ``row``. From this app's own export it comes back as it was: its
    times and its own max (the file's ``max_progress`` is the person's override there,
    the catalogue's total in other trackers' files, kept only for a title-only item)."""
    data = row.data
    # Every column given, None too: items with the same columns go in one INSERT where
    # the database can return their ids for a batch (PostgreSQL).
    values = {name: _value(data, name) for name in FIELDS}
    if own:
        override = data.max_progress
    else:
        override = data.max_progress if row.media is None and data.max_progress else None
    item = LibraryItem(user_id=user_id, media=row.media, media_type=data.type,
                       title=data.title, private=data.private, custom_lists=data.custom_lists,
                       created_at=data.created_at or now, updated_at=data.updated_at or now,
                       max_progress_override=override,
                       cover_url=data.cover_url, anilist_entry_id=None, remote_updated_at=None,
                       synced_at=None, **values)  # fmt: skip
    db.session.add(item)
    row.item = item
    return item


def _history_of(row: _Row, now: datetime) -> list[dict[str, Any]]:
    """A new item's history: the one its own export carried, or its creation by import."""
    item = row.item
    events = row.data.events or [
        {"at": now, "origin": str(Origin.IMPORT), "kind": "created",
         "changes": {"title": [None, item.title]}}
    ]  # fmt: skip
    return [
        {"item_id": item.id, "user_id": item.user_id, "at": event["at"],
         "origin": event["origin"], "kind": event["kind"], "changes": event["changes"],
         "resolved_at": event.get("resolved_at"), "resolution": event.get("resolution")}
        for event in events
    ]  # fmt: skip


def _update(row: _Row, now: datetime) -> None:
    item = row.item
    changes = dict(row.changes)
    for name, (_old, new) in row.changes.items():
        setattr(item, name, new)
    if row.link:
        item.media = row.media
        changes["anilist_id"] = [None, row.media.anilist_id]
    item.updated_at = now
    record_event(item, "updated", changes, Origin.IMPORT)
