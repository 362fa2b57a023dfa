"""What the deployment is doing, for operators: the figures behind ``GET /metrics`` and
the admin's Operations section.

Counts of what happened come from ``tracker.metrics`` (this process, or every process
sharing PROMETHEUS_MULTIPROC_DIR); what is waiting comes from the database at the
moment of asking, in two aggregate statements whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from tracker import metrics
from tracker.extensions import db
from tracker.metrics import Backlog
from tracker.models import Job, SyncOutbox, utcnow

# A change waiting for AniList is in one of these states.
PENDING, ERROR, QUARANTINED = "pending", "error", "quarantined"
OUTBOX_STATES = (PENDING, ERROR, QUARANTINED)
SOURCES = {"anilist": "AniList", "mangadex": "MangaDex"}


@dataclass(frozen=True)
class Waiting:
    """The database's share: None where it could not be read."""

    outbox: dict[str, Backlog] | None
    jobs: dict[tuple[str, str], Backlog] | None


def waiting() -> Waiting:
    """The outbox by state and the jobs by kind and state, with their oldest ages."""
    now = utcnow()
    try:
        outbox = _outbox(now)
        jobs = _jobs(now)
    except SQLAlchemyError:
        db.session.rollback()
        return Waiting(None, None)
    # No commit: it would expire what the rest of the page has loaded; the request's
    # end closes the read.
    return Waiting(outbox, jobs)


def _outbox(now: datetime) -> dict[str, Backlog]:
    quarantined = SyncOutbox.failed_at.is_not(None)
    error = SyncOutbox.failed_at.is_(None) & SyncOutbox.last_error.is_not(None)
    pending = SyncOutbox.failed_at.is_(None) & SyncOutbox.last_error.is_(None)
    conditions = {PENDING: pending, ERROR: error, QUARANTINED: quarantined}
    columns = []
    for condition in conditions.values():
        columns += [
            func.count().filter(condition),
            func.min(SyncOutbox.created_at).filter(condition),
        ]
    row = db.session.execute(select(*columns)).one()
    return {
        state: Backlog(row[2 * index], _age(row[2 * index + 1], now))
        for index, state in enumerate(conditions)
    }


def _jobs(now: datetime) -> dict[tuple[str, str], Backlog]:
    rows = db.session.execute(
        select(Job.kind, Job.state, func.count(), func.min(Job.created_at)).group_by(
            Job.kind, Job.state
        )
    ).all()
    return {(kind, state): Backlog(count, _age(oldest, now)) for kind, state, count, oldest in rows}


def _age(oldest: datetime | None, now: datetime) -> float | None:
    return None if oldest is None else max(0.0, (now - oldest).total_seconds())


def scrape(accept: str | None) -> tuple[bytes, str]:
    """The Prometheus exposition: counted figures plus what is waiting now."""
    now_waiting = waiting()
    registry = metrics.collect([metrics.BacklogCollector(now_waiting.outbox, now_waiting.jobs)])
    return metrics.exposition(registry, accept)


# --- the admin's words ------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteFigures:
    source: str  # as people write it: AniList, MangaDex
    requests: int
    outcomes: Mapping[str, int]  # metrics.REMOTE_OUTCOMES → count
    mean_seconds: float | None


@dataclass(frozen=True)
class Overview:
    multiprocess: bool  # figures of every process sharing PROMETHEUS_MULTIPROC_DIR
    requests: int
    server_errors: int
    mean_request_seconds: float | None
    remotes: list[RemoteFigures]
    cache_hits: int
    cache_misses: int
    budget_waits: int
    budget_wait_seconds: float
    budget_refusals: int
    pushes: int
    mean_push_seconds: float | None
    outbox: dict[str, Backlog] | None
    jobs: dict[tuple[str, str], Backlog] | None


def overview() -> Overview:
    """The same figures as ``/metrics``, summed up for a person."""
    families = list(metrics.collect().collect())
    now_waiting = waiting()

    def count(name: str, **labels: str) -> int:
        return round(metrics.total(families, name, **labels))

    requests = count("tracker_http_requests_total")
    pushes = count("tracker_push_latency_seconds_count")
    return Overview(
        multiprocess=metrics.is_multiprocess(),
        requests=requests,
        server_errors=count("tracker_http_requests_total", status="5xx"),
        mean_request_seconds=_mean(
            metrics.total(families, "tracker_http_request_duration_seconds_sum"),
            count("tracker_http_request_duration_seconds_count"),
        ),
        remotes=[_remote(families, label, name) for label, name in SOURCES.items()],
        cache_hits=count("tracker_search_cache_lookups_total", result=metrics.HIT),
        cache_misses=count("tracker_search_cache_lookups_total", result=metrics.MISS),
        budget_waits=count("tracker_rate_budget_waits_total"),
        budget_wait_seconds=metrics.total(families, "tracker_rate_budget_wait_seconds_total"),
        budget_refusals=count("tracker_rate_budget_refusals_total"),
        pushes=pushes,
        mean_push_seconds=_mean(
            metrics.total(families, "tracker_push_latency_seconds_sum"), pushes
        ),
        outbox=now_waiting.outbox,
        jobs=now_waiting.jobs,
    )


def _remote(families: list[Metric], label: str, name: str) -> RemoteFigures:
    outcomes = {
        outcome: round(
            metrics.total(families, "tracker_remote_requests_total", source=label, outcome=outcome)
        )
        for outcome in metrics.REMOTE_OUTCOMES
    }
    seconds = metrics.total(families, "tracker_remote_request_duration_seconds_sum", source=label)
    requests = sum(outcomes.values())
    return RemoteFigures(name, requests, outcomes, _mean(seconds, requests))


def _mean(total_value: float, count: int) -> float | None:
    return total_value / count if count else None
