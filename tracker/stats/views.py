"""The statistics page: the figures of ``services/stats.py`` drawn as SVG charts, each
with its table behind a disclosure. A ``type`` the page does not know is ignored with a
note (as the library's filters are); the API refuses it (422)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from tracker import preferences
from tracker.services import stats
from tracker.stats.charts import charts_for, duration_words
from tracker.stats.schemas import StatsQuerySchema

bp = Blueprint("stats", __name__)


@bp.get("/stats")
@login_required
def index():
    media_type, ignored = _type_filter()
    mine = preferences.current()
    figures = stats.for_user(current_user.id, media_type=media_type,
                             score_format=mine.score_format, time_zone=mine.timezone)  # fmt: skip
    return render_template(
        "stats/index.html",
        stats=figures,
        charts=charts_for(figures),
        time_spent=duration_words(figures.time_spent.minutes),
        estimated=duration_words(figures.time_spent.estimated_minutes),
        ignored=ignored,
        tabs=[(label, value, url_for("stats.index", type=value))
              for label, value in (("All", None), ("Anime", "anime"), ("Manga", "manga"))],
    )  # fmt: skip


def _type_filter() -> tuple[str | None, str | None]:
    """The type asked for, or None (and a note) when it is no type."""
    given = {"type": request.args["type"]} if request.args.get("type") else {}
    try:
        return StatsQuerySchema().load(given).get("type"), None
    except ValidationError:
        return None, f"type={given['type']}: not anime or manga, so everything is shown."
