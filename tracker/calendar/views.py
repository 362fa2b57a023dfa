"""The calendar pages and the private feed.

``/calendar`` is the next 7 days, a section per day; ``?view=month&month=2026-12`` is a
month, with links to the months before and after that swap the calendar in place with
htmx and are plain links without it. ``/calendar/<secret>.ics`` needs no session: the
secret is the key, and any secret that opens nothing answers the same 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, make_response, url_for
from flask import request as flask_request
from flask_login import current_user, login_required

from tracker import preferences
from tracker.calendar import ics
from tracker.config import DEFAULTS
from tracker.extensions import limiter
from tracker.htmx import render
from tracker.models import utcnow
from tracker.services import calendar

bp = Blueprint("calendar", __name__)

VIEWS = ("week", "month")
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
# Months the page shows: far enough either way for anyone, and inside every zone's
# conversion to UTC.
YEARS = range(1900, 3000)
# A subscribed calendar app refetches every few hours; the secret is in the URL, so no
# shared cache may keep the answer.
FEED_CACHE = "private, max-age=900"
FEED_RATE = "60/minute"


@bp.get("/calendar")
@login_required
def index():
    mine = preferences.current()
    view, month, note = _requested(flask_request.args, mine.timezone)
    if view == "month":
        window = calendar.month_window(*month, mine.timezone)
    else:
        window = calendar.week_window(mine.timezone)
    shown = calendar.calendar(current_user.id, window, mine.title_language)
    return render(
        "calendar/index.html",
        "calendar/partials/_calendar.html",
        calendar=shown,
        view=view,
        month=month,
        note=note,
        weeks=_month_grid(shown) if view == "month" else [],
        today=calendar.today_in(mine.timezone),
        now=utcnow(),
        **_month_links(month),
    )


def _requested(args: Mapping[str, str], zone: str) -> tuple[str, tuple[int, int], str | None]:
    """(view, (year, month), a note about anything ignored). A bad value falls back to
    the default and says so, rather than refusing the page."""
    today = calendar.today_in(zone)
    view, month, note = args.get("view") or "week", (today.year, today.month), None
    if view not in VIEWS:
        view, note = "week", f"“{args['view'][:20]}” is not a view; showing the next 7 days."
    given = args.get("month")
    if given:
        match = _MONTH.fullmatch(given)
        if match and int(match[1]) in YEARS:
            view, month = "month", (int(match[1]), int(match[2]))
        else:
            view, note = "month", f"“{given[:20]}” is not a month like 2026-12; showing this one."
    return view, month, note


def _month_links(month: tuple[int, int]) -> dict[str, str | None]:
    year, number = month
    before = (year - 1, 12) if number == 1 else (year, number - 1)
    after = (year + 1, 1) if number == 12 else (year, number + 1)
    return {
        "previous_month": _month_url(before) if before[0] in YEARS else None,
        "next_month": _month_url(after) if after[0] in YEARS else None,
        "this_month_url": _month_url(month),
    }


def _month_url(month: tuple[int, int]) -> str:
    return url_for("calendar.index", view="month", month=f"{month[0]:04d}-{month[1]:02d}")


def _month_grid(shown: calendar.Calendar) -> list[list[calendar.Day | None]]:
    """The month's days in weeks from Monday; None pads the first and last week."""
    days: list[calendar.Day | None] = [None] * shown.window.first_day.weekday()
    days.extend(shown.days)
    days.extend([None] * (-len(days) % 7))
    return [days[start : start + 7] for start in range(0, len(days), 7)]


@bp.app_template_global()
def clock(moment: datetime) -> str:
    """An instant as the person's wall-clock time: ``18:30``."""
    return f"{moment.astimezone(preferences.zone(preferences.current().timezone)):%H:%M}"


@bp.app_template_global()
def day_name(day: date, today: date) -> str:
    """``Today``, ``Tomorrow`` or ``Wednesday``; the date follows in the page."""
    if day == today:
        return "Today"
    if day == today + timedelta(days=1):
        return "Tomorrow"
    return f"{day:%A}"


# --- the private feed ------------------------------------------------------------------


@bp.get("/calendar/<secret>.ics")
@limiter.limit(FEED_RATE)
def feed(secret: str):
    found = calendar.feed(secret)
    if found is None:
        abort(404)
    body = ics.write_calendar(found, uid_domain=_uid_domain(), item_url=_item_urls())
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="tracker-airing.ics"'
    response.headers["Cache-Control"] = FEED_CACHE
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def feed_urls(secret: str) -> dict[str, str]:
    """The feed's address for this request's host, and the same as a webcal:// link."""
    url = url_for("calendar.feed", secret=secret, _external=True)
    return {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


def _uid_domain() -> str:
    """The configured public host: event UIDs must not change with how the feed is
    reached."""
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "tracker.invalid"


def _item_urls() -> Callable[[int], str | None]:
    """Item pages' addresses on the configured public URL (TRACKER_PUBLIC_URL); none
    while it is left at its default, which no calendar app could reach."""
    base = current_app.config["PUBLIC_URL"]
    if not base or base == DEFAULTS["PUBLIC_URL"]:
        return lambda _item_id: None
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return lambda item_id: adapter.build(
        "library.detail", {"item_id": item_id}, force_external=True
    )
