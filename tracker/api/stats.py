"""Your statistics as JSON: ``GET /api/library/stats`` (the figures ``/stats`` draws)."""

from __future__ import annotations

from flask import g

from tracker import preferences
from tracker.api.access import authenticate
from tracker.api.docs import AUTHENTICATED, ApiBlueprint
from tracker.services import stats
from tracker.stats.schemas import StatsQuerySchema, StatsSchema

bp = ApiBlueprint("stats_api", __name__, url_prefix="/api/library", description="Your statistics")
bp.before_request(authenticate)


@bp.route("/stats")
@bp.arguments(StatsQuerySchema, location="query")
@bp.response(200, StatsSchema)
@bp.errors(*AUTHENTICATED, 422, e422="`type` is neither anime nor manga")
@bp.doc(description="Aggregated in the database. Months are in your time zone; scores "
        "0-100 with each bin's label in your score format. Time spent is partly estimated "
        "where the catalogue has no episode length (`estimated_minutes`).")  # fmt: skip
def library_stats(query):
    """Statistics of your library: counts, episodes, time, scores, months, formats, genres."""
    mine = preferences.read(g.user.preferences)
    return stats.for_user(g.user.id, media_type=query.get("type"),
                          score_format=mine.score_format, time_zone=mine.timezone)  # fmt: skip
