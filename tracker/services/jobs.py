"""Background jobs' common end: every kind (AniList imports and syncs, file imports)
finishes the same way."""

from __future__ import annotations

from tracker.extensions import db
from tracker.models import Job, utcnow


def finish(job: Job, *, result: dict | None = None, error: str | None = None) -> None:
    """Mark ``job`` done (with its ``result``) or failed (with the ``error`` a person reads)."""
    job.state = "failed" if error else "done"
    job.result = result
    job.error = error
    job.finished_at = utcnow()
    db.session.commit()
