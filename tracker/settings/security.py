"""The settings page's security sections: the password, personal API tokens, and the
sessions (browsers and JWTs) that are logged in.

Each form posts to its own URL: htmx swaps the section's fragment and shows a toast;
without JavaScript a change redirects back to the section with a flash, and a refused
one answers the whole page with the messages beside the fields. A new API token is the
exception: it is shown in the answer itself, the only time it is ever shown.
"""

from __future__ import annotations

import re

from flask import request
from flask_login import current_user, login_required
from marshmallow import ValidationError

from tracker.extensions import limiter
from tracker.htmx import toast, trigger
from tracker.models import utcnow
from tracker.schemas import PasswordFormSchema, TokenFormSchema, first_messages, load_form
from tracker.services import accounts, sessions, tokens
from tracker.services.errors import Invalid, NotFound
from tracker.settings.views import (
    bp,
    render_section,
    section_context,
    section_done,
    section_refused,
)

PASSWORD = "settings/partials/_password.html"
TOKENS = "settings/partials/_api_tokens.html"
SESSIONS = "settings/partials/_sessions.html"
# Fired when sessions end; the sessions block reloads itself.
SESSIONS_CHANGED = "sessions-changed"
SESSION_KINDS = {sessions.BROWSER: "Browser", sessions.JWT: "API token (JWT)"}
bp.add_app_template_global(SESSION_KINDS, "SESSION_KINDS")
bp.add_app_template_global(tokens.EXPIRY_CHOICES, "TOKEN_EXPIRY_CHOICES")


@bp.get("/password")
@login_required
def password_form():
    return render_section(PASSWORD)


@bp.post("/password")
@limiter.limit("10/minute")  # guessing the current password from a stolen session
@login_required
def change_password():
    try:
        form = load_form(PasswordFormSchema(), request.form)
        ended = accounts.change_password(
            current_user._get_current_object(),
            form["current_password"],
            form["new_password"],
            keep_session_id=current_user.session_id,
        )
    except ValidationError as error:
        return render_section(PASSWORD, 422, password_errors=first_messages(error))
    except Invalid as error:
        return render_section(PASSWORD, 422, password_errors=error.fields)
    response = section_done(PASSWORD, "password", accounts.password_changed_message(ended))
    return trigger(response, SESSIONS_CHANGED) if ended else response


@bp.get("/tokens")
@login_required
def api_tokens():
    return render_section(TOKENS, **_tokens_context())


@bp.post("/tokens")
@login_required
def create_api_token():
    """The new token is in this answer and nowhere else: no redirect to lose it on."""
    try:
        form = load_form(TokenFormSchema(), request.form)
        _token, plaintext = tokens.create(current_user.id, form["name"], form["expires_at"])
    except ValidationError as error:
        errors = first_messages(error)
    except Invalid as error:
        errors = error.fields
    else:
        response = render_section(TOKENS, new_token=plaintext, **_tokens_context())
        response.headers["Cache-Control"] = "no-store"
        return toast(response, "API token created. Copy it now: it is shown only once.")
    return render_section(
        TOKENS, 422, token_errors=errors, token_form=request.form, **_tokens_context()
    )


@bp.post("/tokens/<id:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int):
    try:
        name = tokens.revoke(current_user.id, token_id)
    except NotFound as error:  # revoked in another tab, or not theirs
        return section_refused(TOKENS, "api-tokens", error, **_tokens_context())
    return section_done(TOKENS, "api-tokens", f"Revoked the API token “{name}”.", _tokens_context)


@bp.get("/sessions")
@login_required
def user_sessions():
    return render_section(SESSIONS, **_sessions_context())


@bp.post("/sessions/<session_id>/end")
@login_required
def end_session(session_id: str):
    try:
        sessions.end(current_user.id, session_id)
    except NotFound as error:
        return section_refused(SESSIONS, "sessions", error, **_sessions_context())
    return section_done(
        SESSIONS, "sessions", "Session ended: it has to log in again.", _sessions_context
    )


@section_context
def _page_context() -> dict:
    return {**_tokens_context(), **_sessions_context()}


def _tokens_context() -> dict:
    return {"api_tokens": tokens.listed(current_user.id), "now": utcnow()}


def _sessions_context() -> dict:
    return {
        "user_sessions": sessions.active(current_user.id),
        "this_session": current_user.session_id,
    }


_AGENTS = [  # (pattern, name): the first that matches names the browser or program
    (r"Edg(e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"Firefox/|FxiOS/", "Firefox"),
    (r"Chrom(e|ium)/|CriOS/", "Chrome"),
    (r"Safari/", "Safari"),
    (r"^curl/", "curl"),
    (r"^python-requests/|^python-httpx/|^Python-urllib/", "Python script"),
]
_SYSTEMS = [
    (r"Android", "Android"),
    (r"iPhone|iPad|iOS", "iOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"CrOS", "ChromeOS"),
    (r"Linux|X11", "Linux"),
]


@bp.app_template_filter("device")
def device_of(user_agent: str | None) -> str:
    """A user agent, shortened to what a person recognises: "Firefox on Linux"."""
    if not user_agent:
        return "Unknown device"
    agent = next((name for pattern, name in _AGENTS if re.search(pattern, user_agent)), None)
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, user_agent)), None)
    if agent and system:
        return f"{agent} on {system}"
    if agent or system:
        return agent or system
    return user_agent.split(" ", 1)[0][:40]  # a script's own name, e.g. "MyScript/1.0"
