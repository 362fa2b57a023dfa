"""The settings page's Calendar feed section: make the private .ics URL, make a new one
(the old stops working) or turn it off.

Like a new API token, a new feed URL is shown in the answer itself and never again: the
server keeps only its hash. Without JavaScript the forms post and the page comes back
with the URL in place; with htmx the section swaps itself and a toast says what changed.
"""

from __future__ import annotations

from flask_login import current_user, login_required

from tracker.calendar.views import feed_urls
from tracker.htmx import toast
from tracker.services import calendar
from tracker.services.errors import NotFound
from tracker.settings.views import (
    bp,
    render_section,
    section_context,
    section_done,
    section_refused,
)

FEED = "settings/partials/_calendar_feed.html"
ANCHOR = "calendar-feed"


@bp.get("/calendar-feed")
@login_required
def calendar_feed():
    return render_section(FEED, **_feed_context())


@bp.post("/calendar-feed")
@login_required
def make_calendar_feed():
    """A new URL, in this answer only; any earlier one stops working."""
    replaced = calendar.has_feed(current_user)  # the row as loaded: read before the commit
    secret = calendar.new_feed_secret(current_user.id)
    response = render_section(FEED, new_feed=feed_urls(secret), has_calendar_feed=True)
    response.headers["Cache-Control"] = "no-store"
    done = "New feed URL made; the old one no longer works." if replaced else "Feed URL made."
    return toast(response, f"{done} Copy it now: it is shown only once.")


@bp.post("/calendar-feed/revoke")
@login_required
def revoke_calendar_feed():
    try:
        calendar.revoke_feed(current_user.id)
    except NotFound as error:  # turned off in another tab
        return section_refused(FEED, ANCHOR, error, has_calendar_feed=False, new_feed=None)
    message = "Calendar feed turned off: its URL no longer works."
    return section_done(
        FEED, ANCHOR, message, lambda: {"has_calendar_feed": False, "new_feed": None}
    )


@section_context
def _page_context() -> dict:
    return _feed_context()


def _feed_context() -> dict:
    return {"has_calendar_feed": calendar.has_feed(current_user), "new_feed": None}
