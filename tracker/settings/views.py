"""The settings blueprint and its page.

Each section (a module of this package) registers what its part of the page needs with
``@section_context``; the page gathers them all, and a section's own URLs answer just
its fragment to htmx and the whole page, with that fragment in place, otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, flash, redirect, url_for
from flask_login import login_required

from tracker.htmx import is_htmx, render, toast
from tracker.services.errors import NotFound

bp = Blueprint("settings", __name__, url_prefix="/settings")
PAGE = "settings/index.html"

_SECTIONS: list[Callable[[], dict]] = []


def section_context(build: Callable[[], dict]) -> Callable[[], dict]:
    """Register what a section shows on the whole page (for the logged-in person)."""
    _SECTIONS.append(build)
    return build


def page_context() -> dict:
    context: dict = {}
    for build in _SECTIONS:
        context.update(build())
    return context


@bp.get("")
@login_required
def index():
    """Every section; ``?connected=`` is where AniList sends people back."""
    return render_section(PAGE)


def render_section(fragment: str, status: int = 200, **context) -> Response:
    """``fragment`` for htmx; the settings page with the fragment in place otherwise."""
    if not is_htmx():
        context = {**page_context(), **context}
    return render(PAGE, fragment, status=status, **context)


def section_done(fragment: str, anchor: str, message: str, context=dict) -> Response:
    """A change made: the fragment and a toast for htmx, a redirect and a flash otherwise.
    ``context`` builds what the fragment shows, only when it is shown."""
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("settings.index", _anchor=anchor), 303)
    return toast(render_section(fragment, **context()), message)


def section_refused(fragment: str, anchor: str, error: NotFound, **context) -> Response:
    """Nothing to change (gone already, or someone else's): say so; the list is redrawn."""
    if not is_htmx():
        flash(error.message, "error")
        return redirect(url_for("settings.index", _anchor=anchor), 303)
    return toast(render_section(fragment, error.status, **context), error.message, "error")
