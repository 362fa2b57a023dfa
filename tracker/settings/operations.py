"""The settings page's Operations section, for admins: what ``/metrics`` exports, in
words. Anyone else never sees the section, and its URL answers them 404 like any
unknown path."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from tracker.metrics import CLIENT_ERROR, NETWORK_ERROR, RATE_LIMITED, SERVER_ERROR, TIMEOUT
from tracker.services import imports, operations, sync
from tracker.services.operations import ERROR, PENDING, QUARANTINED, Overview
from tracker.settings.views import bp, render_section, section_context

OPERATIONS = "settings/partials/_operations.html"
JOB_NAMES = {
    sync.IMPORT: "AniList import",
    sync.SYNC: "AniList sync",
    sync.FIRST_SYNC: "first AniList sync",
    imports.PREVIEW: "file import preview",
    imports.APPLY: "file import",
}
JOB_STATES = ("running", "queued", "failed", "done")
FAILURES = ((RATE_LIMITED, "rate-limited"), (SERVER_ERROR, "server errors"),
            (CLIENT_ERROR, "refused (4xx)"), (TIMEOUT, "timed out"),
            (NETWORK_ERROR, "network errors"))  # fmt: skip


def _is_admin() -> bool:
    return current_user.is_authenticated and current_user.is_admin


@section_context
def _operations_context() -> dict:
    return {"operations": describe(operations.overview())} if _is_admin() else {}


@bp.get("/operations")
def operations_section():
    if not _is_admin():
        abort(404)
    return render_section(OPERATIONS, operations=describe(operations.overview()))


def describe(overview: Overview) -> list[tuple[str, str]]:
    """(what, sentence) pairs: the figures as a person reads them."""
    lines = [("Counted", _scope(overview)), ("Requests", _requests(overview))]
    for remote in overview.remotes:
        failures = [f"{_n(remote.outcomes[key])} {words}"
                    for key, words in FAILURES if remote.outcomes[key]]  # fmt: skip
        sentence = f"{_n(remote.requests)} {_plural(remote.requests, 'request')}"
        if remote.requests:
            sentence += f", {', '.join(failures)}" if failures else ", all answered"
            sentence += f"; {_duration(remote.mean_seconds)} on average"
        lines.append((remote.source, sentence + "."))
    lookups = overview.cache_hits + overview.cache_misses
    cache = f"{_n(overview.cache_hits)} hits, {_n(overview.cache_misses)} misses"
    if lookups:
        cache += f" ({round(100 * overview.cache_hits / lookups)} % answered from the cache)"
    lines.append(("Search cache", cache + "."))
    waits = overview.budget_waits
    budget = (
        f"Waited {_n(waits)} {_plural(waits, 'time')} "
        f"({_duration(overview.budget_wait_seconds)} in all)"
        if waits
        else "No waits"
    )
    lines.append(("Request budget", f"{budget}; {_n(overview.budget_refusals)} "
                                    "not sent because it was spent."))  # fmt: skip
    pushes = f"{_n(overview.pushes)} {_plural(overview.pushes, 'change')} reached AniList"
    if overview.pushes:
        pushes += f", {_duration(overview.mean_push_seconds)} after the change on average"
    lines.append(("Pushes", pushes + "."))
    lines.append(("Outbox", _outbox(overview)))
    lines.append(("Jobs", _jobs(overview)))
    return lines


def _scope(overview: Overview) -> str:
    counted = (
        "Every web and worker process sharing PROMETHEUS_MULTIPROC_DIR, since the directory "
        "was last emptied"
        if overview.multiprocess
        else "This process only, since it started (set PROMETHEUS_MULTIPROC_DIR to add up "
        "every process)"
    )
    return f"{counted}; waiting work is read from the database now."


def _requests(overview: Overview) -> str:
    sentence = f"{_n(overview.requests)} answered"
    if overview.requests:
        errors = overview.server_errors
        sentence += (f", {_n(errors)} with a server error; "
                     f"{_duration(overview.mean_request_seconds)} on average")  # fmt: skip
    return sentence + "."


def _outbox(overview: Overview) -> str:
    if overview.outbox is None:
        return "The database did not answer."
    parts = []
    for state, words in ((PENDING, "pending"), (ERROR, "failed and waiting to retry"),
                         (QUARANTINED, "refused by AniList until edited")):  # fmt: skip
        backlog = overview.outbox[state]
        part = f"{_n(backlog.count)} {words}"
        if backlog.count:
            part += f", oldest {_duration(backlog.oldest_seconds)}"
        parts.append(part)
    return "; ".join(parts) + "."


def _jobs(overview: Overview) -> str:
    if overview.jobs is None:
        return "The database did not answer."
    if not overview.jobs:
        return "None."
    by_state: dict[str, int] = {}
    oldest_queued = None
    for (_kind, state), backlog in overview.jobs.items():
        by_state[state] = by_state.get(state, 0) + backlog.count
        if state == "queued" and backlog.oldest_seconds is not None:
            oldest_queued = max(oldest_queued or 0.0, backlog.oldest_seconds)
    states = sorted(by_state, key=lambda s: (JOB_STATES.index(s) if s in JOB_STATES else 99, s))
    summary = ", ".join(f"{_n(by_state[state])} {state}" for state in states)
    if oldest_queued is not None:
        summary += f" (the oldest queued for {_duration(oldest_queued)})"
    kinds = sorted({kind for kind, _state in overview.jobs})
    detail = "; ".join(f"{JOB_NAMES.get(kind, kind)}: {_job_counts(overview, kind, states)}"
                       for kind in kinds)  # fmt: skip
    return f"{summary}. {detail[0].upper()}{detail[1:]}."


def _job_counts(overview: Overview, kind: str, states: list[str]) -> str:
    jobs = overview.jobs or {}
    return ", ".join(f"{_n(jobs[kind, state].count)} {state}"
                     for state in states if (kind, state) in jobs)  # fmt: skip


def _n(count: int) -> str:
    return f"{count:,}"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def _duration(seconds: float | None) -> str:
    """40 ms, 3.2 s, 40 s, 5 min, 2 h 5 min, 3 d 4 h."""
    if seconds is None:
        return "unknown"
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
