"""What this process has done, counted for Prometheus (``GET /metrics``) and for the
admin's Operations section.

A plain module, so that the clients (which know no Flask) and the services can record
what happens with one call each. Labels take values from short fixed lists only (the
endpoint is the Flask endpoint name, never the path), so a client cannot grow the
number of series.

Several processes (gunicorn workers, ``flask tracker worker``) add up their figures
when PROMETHEUS_MULTIPROC_DIR names one empty directory, the same for all of them and
set before they start: prometheus_client then keeps each process's counts in files
there, and a scrape reads them all. The directory must be emptied before a fresh
start, and gunicorn's ``child_exit`` hook calls
``prometheus_client.multiprocess.mark_process_dead(worker.pid)``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

# The outcomes of one HTTP request to a remote API.
OK = "ok"
RATE_LIMITED = "rate_limited"  # HTTP 429
CLIENT_ERROR = "client_error"  # any other 4xx
SERVER_ERROR = "server_error"  # 5xx
TIMEOUT = "timeout"
NETWORK_ERROR = "network_error"  # refused, reset, cut short
REMOTE_OUTCOMES = (OK, RATE_LIMITED, CLIENT_ERROR, SERVER_ERROR, TIMEOUT, NETWORK_ERROR)

HIT, MISS = "hit", "miss"
# Every request counts under one of these methods; anything else a client invents is "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no route: 404s and 405s of unknown paths share this label

# A ``_created`` timestamp beside every series doubles the scrape for little use.
disable_created_metrics()

# The metric objects live in this module's registry, not prometheus_client's global
# one; a scrape reads them from here, or from the files of every process.
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # memory, CPU, open files: this process only

HTTP_REQUESTS = Counter(
    "tracker_http_requests",
    "Requests answered, by Flask endpoint, method and status class.",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "tracker_http_request_duration_seconds",
    "Time to answer a request, by Flask endpoint and status class.",
    ["endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
REMOTE_REQUESTS = Counter(
    "tracker_remote_requests",
    "HTTP requests to AniList and MangaDex (each attempt), by outcome.",
    ["source", "outcome"],
    registry=REGISTRY,
)
REMOTE_DURATION = Histogram(
    "tracker_remote_request_duration_seconds",
    "Time an HTTP request to a remote API took, whatever its outcome.",
    ["source"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
    registry=REGISTRY,
)
SEARCH_CACHE = Counter(
    "tracker_search_cache_lookups",
    "Remote searches answered from the shared cache (hit) or asked upstream (miss).",
    ["source", "result"],
    registry=REGISTRY,
)
BUDGET_WAITS = Counter(
    "tracker_rate_budget_waits",
    "Times a background request waited for the shared request budget.",
    ["budget"],
    registry=REGISTRY,
)
BUDGET_WAIT_SECONDS = Counter(
    "tracker_rate_budget_wait_seconds",
    "Seconds spent waiting for the shared request budget.",
    ["budget"],
    registry=REGISTRY,
)
BUDGET_REFUSALS = Counter(
    "tracker_rate_budget_refusals",
    "Requests not sent because the budget was spent (rescheduled, or answered locally).",
    ["budget"],
    registry=REGISTRY,
)
PUSH_LATENCY = Histogram(
    "tracker_push_latency_seconds",
    "From a local change to AniList acknowledging it.",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 4 * 3600, 86400),
    registry=REGISTRY,
)


# --- recording ---------------------------------------------------------------------------


def record_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    endpoint = endpoint or UNMATCHED
    status_class = f"{status // 100}xx"
    method = method if method in METHODS else "other"
    HTTP_REQUESTS.labels(endpoint, method, status_class).inc()
    HTTP_DURATION.labels(endpoint, status_class).observe(max(0.0, seconds))


def remote_outcome(status: int) -> str:
    """The outcome of a request that got an HTTP answer."""
    if status == 429:
        return RATE_LIMITED
    if status >= 500:
        return SERVER_ERROR
    if status >= 400:
        return CLIENT_ERROR
    return OK


def record_remote(source: str, outcome: str, seconds: float) -> None:
    source = source.lower()
    REMOTE_REQUESTS.labels(source, outcome).inc()
    REMOTE_DURATION.labels(source).observe(max(0.0, seconds))


def record_search_cache(source: str, hit: bool) -> None:
    SEARCH_CACHE.labels(source.lower(), HIT if hit else MISS).inc()


def record_budget_wait(budget: str, seconds: float) -> None:
    budget = budget.lower()
    BUDGET_WAITS.labels(budget).inc()
    BUDGET_WAIT_SECONDS.labels(budget).inc(max(0.0, seconds))


def record_budget_refusal(budget: str) -> None:
    BUDGET_REFUSALS.labels(budget.lower()).inc()


def record_push(seconds: float) -> None:
    PUSH_LATENCY.observe(max(0.0, seconds))


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Backlog:
    """Work waiting in the database: how much, and how long the oldest has waited."""

    count: int
    oldest_seconds: float | None  # None when there is none


class BacklogCollector(Collector):
    """The outbox and the jobs as gauges, from figures read at scrape time."""

    def __init__(
        self,
        outbox: Mapping[str, Backlog] | None,
        jobs: Mapping[tuple[str, str], Backlog] | None,
    ) -> None:
        self.outbox = outbox
        self.jobs = jobs

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "tracker_database_up", "1 when the scrape could read the outbox and jobs."
        )
        up.add_metric([], 0 if self.outbox is None or self.jobs is None else 1)
        yield up
        if self.outbox is not None:
            depth = GaugeMetricFamily(
                "tracker_outbox_changes",
                "Changes waiting for AniList, by state (pending, error, quarantined).",
                labels=["state"],
            )
            age = GaugeMetricFamily(
                "tracker_outbox_oldest_change_age_seconds",
                "Age of the oldest change not yet on AniList, by state (0 when none).",
                labels=["state"],
            )
            for state, backlog in self.outbox.items():
                depth.add_metric([state], backlog.count)
                age.add_metric([state], backlog.oldest_seconds or 0.0)
            yield depth
            yield age
        if self.jobs is not None:
            jobs = GaugeMetricFamily(
                "tracker_jobs", "Background jobs kept, by kind and state.", labels=["kind", "state"]
            )
            waiting = GaugeMetricFamily(
                "tracker_jobs_oldest_age_seconds",
                "Age of the oldest queued or running job since it was asked for.",
                labels=["kind", "state"],
            )
            for (kind, state), backlog in sorted(self.jobs.items()):
                jobs.add_metric([kind, state], backlog.count)
                if state in ("queued", "running"):
                    waiting.add_metric([kind, state], backlog.oldest_seconds or 0.0)
            yield jobs
            yield waiting


class _ThisProcess(Collector):
    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


def is_multiprocess() -> bool:
    return multiprocess_dir() is not None


def collect(extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """A registry for one scrape: every process's figures (or this one's) and ``extra``.

    Made per scrape, so collectors of database figures never outlive their request."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory is not None:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())
    for collector in extra:
        registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """The text Prometheus reads (OpenMetrics when the scraper asks for it), and its type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def total(families: Iterable[Metric], sample_name: str, **labels: str) -> float:
    """The sum of the samples called ``sample_name`` whose labels include ``labels``."""
    found = 0.0
    for family in families:
        for sample in family.samples:
            if sample.name == sample_name and all(
                sample.labels.get(key) == value for key, value in labels.items()
            ):
                found += sample.value
    return found
