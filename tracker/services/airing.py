"""Airing data and relations for the titles people keep, refreshed from AniList.

Which titles: AniList titles in anyone's library. Anime that may still air
(releasing, not yet released, on hiatus, or of unknown status) are re-read when
their schedule is older than ``AIRING_STALE``; any title whose relations are
missing or older than ``RELATIONS_STALE``. Stalest first, at most ``limit`` a run,
50 ids a request, inside the shared AniList budget with room left for everything
else (pushes, pulls, searches). Each batch is committed on its own: an outage keeps
what was done, and what was known before stays until AniList answers again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from tracker.clients import AniListClient, ClientError, MediaRecord, RateLimited
from tracker.clients.anilist import AiringAndRelations
from tracker.extensions import db
from tracker.models import AiringEpisode, LibraryItem, Media, MediaRelation, MediaType, utcnow
from tracker.services import catalog
from tracker.services.remote import OK, remote, state_of

BATCH = 50  # AniList's largest page
RUN_LIMIT = 500  # titles a run reads at most (10 requests)
AIRING_STALE = timedelta(hours=6)
RELATIONS_STALE = timedelta(days=30)
# Statuses of an anime whose schedule may still change (None: not known yet).
MAY_AIR = ("releasing", "not_yet_released", "hiatus")
# Aired episodes are kept this long (the calendar's month view shows them).
KEEP_AIRED = timedelta(days=35)
# Share of the AniList budget a refresh leaves for others: it is background work.
BACKGROUND_RESERVE_SHARE = 0.5
MAX_WAITS = 10

Progress = Callable[[int], Any]


@dataclass
class RefreshReport:
    planned: int = 0
    refreshed: int = 0  # titles AniList answered for
    missing: int = 0  # ids AniList did not return (or returned unreadable)
    episodes: int = 0  # coming episodes stored
    relations: int = 0  # relations stored
    requests: int = 0
    error: str | None = None  # why the run stopped early (AniList unreachable, …)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def due_titles(now: datetime | None = None, limit: int = RUN_LIMIT) -> list[tuple[int, int]]:
    """(media id, AniList id) of the titles to refresh, the most overdue first."""
    now = now or utcnow()
    kept = Media.id.in_(select(LibraryItem.media_id).where(LibraryItem.media_id.is_not(None)))
    base = select(Media.id, Media.anilist_id).where(
        Media.source == "anilist", Media.anilist_id.is_not(None), kept
    )
    airing = (
        base.add_columns(Media.airing_refreshed_at)
        .where(
            Media.media_type == MediaType.ANIME,
            or_(Media.status.in_(MAY_AIR), Media.status.is_(None)),
            or_(
                Media.airing_refreshed_at.is_(None), Media.airing_refreshed_at < now - AIRING_STALE
            ),
        )
        .order_by(Media.airing_refreshed_at.is_(None).desc(), Media.airing_refreshed_at, Media.id)
        .limit(limit)
    )
    relations = (
        base.add_columns(Media.relations_fetched_at)
        .where(
            or_(
                Media.relations_fetched_at.is_(None),
                Media.relations_fetched_at < now - RELATIONS_STALE,
            )
        )
        .order_by(Media.relations_fetched_at.is_(None).desc(), Media.relations_fetched_at, Media.id)
        .limit(limit)
    )
    oldest = datetime.min.replace(tzinfo=UTC)
    due: dict[int, tuple[datetime, int]] = {}
    for rows, every in ((db.session.execute(airing), AIRING_STALE),
                        (db.session.execute(relations), RELATIONS_STALE)):  # fmt: skip
        for media_id, anilist_id, at in rows:
            when = oldest if at is None else _aware(at) + every
            if media_id not in due or when < due[media_id][0]:
                due[media_id] = (when, anilist_id)
    ordered = sorted(due.items(), key=lambda pair: (pair[1][0], pair[0]))
    return [(media_id, anilist_id) for media_id, (_when, anilist_id) in ordered[:limit]]


def run(
    *,
    limit: int = RUN_LIMIT,
    patient: bool = True,
    progress: Progress = lambda _n: None,
    sleep: Callable[[float], Any] = time.sleep,
    now: datetime | None = None,
) -> RefreshReport:
    """Refresh the due titles, a batch of 50 a request, each batch committed.

    ``patient`` waits out rate limits (the command); the worker is not: a rate limit
    or an outage ends its run, and the next round goes on from what is still due."""
    now = now or utcnow()
    titles = due_titles(now, limit)
    db.session.commit()  # end the read before slow remote calls
    report = RefreshReport(planned=len(titles))
    client = _background_client()
    for start in range(0, len(titles), BATCH):
        batch = titles[start : start + BATCH]
        answers = _ask(client, [anilist_id for _id, anilist_id in batch], report, patient, sleep)
        if answers is None:
            break
        try:
            _store(batch, answers, report, now)
            db.session.commit()
        except IntegrityError:  # another worker stored the same rows a moment ago
            db.session.rollback()
            current_app.logger.info("Airing refresh: batch stored elsewhere meanwhile")
        progress(len(batch))
    return report


def _background_client() -> AniListClient:
    per_minute = float(current_app.config["ANILIST_RATE_PER_MINUTE"])
    return remote().anilist.keeping(max(1, int(per_minute * BACKGROUND_RESERVE_SHARE)))


def _ask(
    client: AniListClient, ids: list[int], report: RefreshReport, patient: bool, sleep
) -> list[AiringAndRelations] | None:
    """AniList's answer for one batch; None (and ``report.error``) when it gives none."""
    health = remote().health
    for _ in range(MAX_WAITS if patient else 1):
        report.requests += 1
        try:
            answers = client.airing_and_relations(ids)
        except RateLimited as error:
            health.record("anilist", state_of(error))
            report.error = "AniList is rate limiting; the rest waits for the next run."
            if patient:
                sleep(error.retry_after)
            continue
        except ClientError as error:
            health.record("anilist", state_of(error))
            report.error = f"AniList unreachable ({error}); kept what was known."
            return None
        health.record("anilist", OK)
        report.error = None
        return answers
    return None


def _store(
    batch: list[tuple[int, int]],
    answers: list[AiringAndRelations],
    report: RefreshReport,
    now: datetime,
) -> None:
    """Upsert the titles, replace their coming episodes and their relations, and mark
    the whole batch refreshed: an id AniList did not answer for keeps what was known,
    and is not asked again before the others."""
    stored = catalog.upsert_records([answer["media"] for answer in answers])
    batch_ids = [media_id for media_id, _anilist_id in batch]
    media_ids: list[int] = []  # the titles answered for: their data is replaced
    by_anilist = {media.anilist_id: media.id for media in stored}
    related_ids = _store_related([r["media"] for a in answers for r in a["related"]])
    episodes, relations = [], []
    for answer in answers:
        media_id = by_anilist[answer["media"]["anilist_id"]]
        if media_id not in media_ids:
            media_ids.append(media_id)
        for slot in answer["airing"]:
            at = datetime.fromtimestamp(slot["airing_at"], UTC)
            episodes.append({"media_id": media_id, "episode": slot["episode"], "airing_at": at})
        for link in answer["related"]:
            related_id = related_ids.get(link["media"]["anilist_id"])
            if related_id is not None and related_id != media_id:
                relations.append(
                    {"media_id": media_id, "related_id": related_id, "relation": link["relation"]}
                )
    _replace_schedule(media_ids, episodes, now)
    db.session.execute(delete(MediaRelation).where(MediaRelation.media_id.in_(media_ids)))
    if relations:
        db.session.execute(insert(MediaRelation), relations)
    db.session.execute(
        update(Media)
        .where(Media.id.in_(set(batch_ids) | set(media_ids)))
        .values(airing_refreshed_at=now, relations_fetched_at=now)
        .execution_options(synchronize_session=False)
    )
    report.refreshed += len(answers)
    report.missing += len(batch) - len(answers)
    report.episodes += len(episodes)
    report.relations += len(relations)


def _replace_schedule(media_ids: list[int], episodes: list[dict[str, Any]], now: datetime) -> None:
    """Coming episodes are replaced by AniList's new list; aired ones are kept a while
    (unless the new list names the same episode: a rescheduled one)."""
    stale = or_(AiringEpisode.airing_at > now, AiringEpisode.airing_at < now - KEEP_AIRED)
    db.session.execute(delete(AiringEpisode).where(AiringEpisode.media_id.in_(media_ids), stale))
    if episodes:
        named = [(e["media_id"], e["episode"]) for e in episodes]
        db.session.execute(
            delete(AiringEpisode).where(
                tuple_(AiringEpisode.media_id, AiringEpisode.episode).in_(named)
            )
        )
        db.session.execute(insert(AiringEpisode), episodes)


def _store_related(records: list[MediaRecord]) -> dict[int, int]:
    """Catalogue rows for related titles (AniList id → media id). A title already read
    in full is left as it is; a new one (or a stub) gets the lean record and keeps no
    ``fetched_at``, so a backfill reads the rest once someone adds it."""
    unique = list({r["anilist_id"]: r for r in records}.values())
    if not unique:
        return {}
    keys = [r["external_id"] for r in unique]
    full = set(
        db.session.scalars(
            select(Media.external_id).where(
                Media.source == "anilist",
                Media.external_id.in_(keys),
                Media.fetched_at.is_not(None),
            )
        )
    )
    lean = [r for r in unique if r["external_id"] not in full]
    for media in catalog.upsert_records(lean):
        media.fetched_at = None
    db.session.flush()
    found = select(Media.anilist_id, Media.id).where(
        Media.source == "anilist", Media.external_id.in_(keys)
    )
    return {anilist_id: media_id for anilist_id, media_id in db.session.execute(found)}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
