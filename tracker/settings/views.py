"""The settings blueprint and its page.

Each section (a module of this package) registers what its part of the page needs with
``@section_context``; the page gathers them all, and a section's own URLs answer just
its fragment to htmx and the whole page, with that fragment in place, otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response
from flask_login import login_required

from tracker.htmx import is_htmx, render

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
