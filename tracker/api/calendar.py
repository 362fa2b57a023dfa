"""The airing calendar as JSON, and the private .ics feed's secret."""

from __future__ import annotations

from flask import g

from tracker import preferences
from tracker.api.access import authenticate
from tracker.api.docs import AUTHENTICATED, MUTATION, ApiBlueprint
from tracker.calendar.views import feed_urls
from tracker.schemas import CalendarQuerySchema, CalendarSchema, FeedTokenSchema
from tracker.services import calendar

bp = ApiBlueprint("calendar_api", __name__, url_prefix="/api/calendar",
                  description="What airs when")  # fmt: skip
bp.before_request(authenticate)


@bp.route("")
@bp.arguments(CalendarQuerySchema, location="query")
@bp.response(200, CalendarSchema)
@bp.errors(*AUTHENTICATED, 422, e422="A date is not real, `to` is before `from`, or the "
           "window is longer than 62 days")  # fmt: skip
@bp.doc(description="Episodes of your current, rewatching and planning titles, by day in "
        "your time zone (Settings → Profile), times in UTC. Dates are whole days (`to` "
        "included); date-times are instants (`to` excluded). Without `from` and `to`: the "
        "next 7 days.")  # fmt: skip
def airing(query):
    """Episodes airing between two dates."""
    mine = preferences.read(g.user.preferences)
    window = calendar.window_between(query.get("start"), query.get("end"), mine.timezone)
    return calendar.calendar(g.user.id, window, mine.title_language)


@bp.route("/feed-token", methods=["POST"])
@bp.response(201, FeedTokenSchema)
@bp.errors(*MUTATION)
@bp.doc(description="The URL holds a new secret; any earlier feed URL stops working. The "
        "server keeps only a hash of it: this answer is the only time it is shown. Calendar "
        "apps subscribe to it without signing in.")  # fmt: skip
def make_feed_token():
    """Make a new private .ics feed URL."""
    return feed_urls(calendar.new_feed_secret(g.user.id))


@bp.route("/feed-token", methods=["DELETE"])
@bp.response(204)
@bp.errors(*MUTATION, 404, e404="You have no calendar feed")
def revoke_feed_token():
    """Turn the .ics feed off: its URL answers 404 from then on."""
    calendar.revoke_feed(g.user.id)
