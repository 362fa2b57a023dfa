"""The settings page's Profile section: display name, title language, score format,
time zone and default sort, in one form.

Without JavaScript the form posts and comes back to the page with a flash; with htmx
the section swaps itself, with each refused value beside its field (422) or a toast.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from tracker import preferences, scores
from tracker.htmx import is_htmx, toast
from tracker.library.display import field_label
from tracker.schemas import ProfileSchema, first_messages, load_form
from tracker.services import accounts
from tracker.settings.views import bp, render_section, section_context

PROFILE = "settings/partials/_profile.html"
SAVED = "Profile saved."
bp.add_app_template_global(preferences.TITLE_LANGUAGE_NAMES, "TITLE_LANGUAGE_NAMES")
bp.add_app_template_global(scores.FORMAT_NAMES, "SCORE_FORMAT_NAMES")
bp.add_app_template_global(preferences.TIME_ZONES, "TIME_ZONES")
bp.add_app_template_global(preferences.MAX_DISPLAY_NAME, "MAX_DISPLAY_NAME")


@bp.get("/profile")
@login_required
def profile():
    return render_section(PROFILE, **_profile_context(preferences.current()))


@bp.post("/profile")
@login_required
def update_profile():
    try:
        done = accounts.update_profile(current_user.id, load_form(ProfileSchema(), request.form))
    except ValidationError as error:
        errors = first_messages(error)
        context = _profile_context(preferences.current(), values=request.form, errors=errors)
        return toast(render_section(PROFILE, 422, **context), _sentence(errors), "error")
    message = SAVED if done.changes else "Nothing to change."
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("settings.index", _anchor="profile"), 303)
    return toast(render_section(PROFILE, **_profile_context(done.preferences)), message)


@section_context
def _page_context() -> dict:
    return _profile_context(preferences.current())


def _profile_context(profile, *, values=None, errors=None) -> dict:
    return {"profile": profile, "profile_values": values or {}, "profile_errors": errors or {}}


def _sentence(errors: dict[str, list[str]]) -> str:
    said = "; ".join(f"{field_label(name)}: {' '.join(m)}" for name, m in errors.items())
    return f"Profile not saved. {said}"
