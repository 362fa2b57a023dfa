"""The settings page's AniList section, as htmx fragments.

The AniList block (``#anilist-status``) reloads itself whenever the server fires
``anilist-changed``; a started job answers a fragment that polls its own URL every
second until the job is done or failed, then fires that event so the block shows
the new last-sync time and pending count. Each URL also answers a whole page, so
everything works with JavaScript off.
"""

from __future__ import annotations

from flask import Response, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from tracker.htmx import is_htmx, toast, trigger
from tracker.models import Job
from tracker.services import anilist, sync
from tracker.services.errors import Invalid, NotFound
from tracker.settings.views import bp, render_section, section_context

STATUS = "settings/partials/_anilist.html"
JOB = "settings/partials/_anilist_job.html"
# Fired when the connection or its numbers change; the AniList block reloads itself.
ANILIST_CHANGED = "anilist-changed"
FIRST_SYNC = "settings/partials/_first_sync.html"
JOB_NAMES = {"anilist_import": "Import from AniList", "anilist_sync": "Sync with AniList",
             "anilist_first_sync": "First sync with AniList"}  # fmt: skip
bp.add_app_template_global(JOB_NAMES, "JOB_NAMES")


@bp.get("/anilist")
@login_required
def anilist_status():
    return render_section(STATUS, **_anilist_context())


@bp.get("/anilist/connect")
@login_required
def anilist_connect():
    """Off to AniList to approve Tracker; AniList sends the browser back to the callback."""
    try:
        return redirect(anilist.connect_url(current_user.id))
    except anilist.NotConfigured as error:
        flash(error.message, "error")
        return redirect(url_for("settings.index", _anchor="anilist"), 303)


@bp.post("/anilist/import")
@login_required
def anilist_import():
    return _start_job("anilist_import")


@bp.post("/anilist/sync")
@login_required
def anilist_sync():
    """Sync now; "Sync everything" (``full=1``) reads the whole AniList list again."""
    return _start_job("anilist_sync", full=request.form.get("full") == "1")


@bp.post("/anilist/first-sync")
@login_required
def anilist_first_sync():
    """The person's choice for the first merge; the job's progress replaces the choice."""
    return _start_job(sync.FIRST_SYNC, policy=request.form.get("policy", ""))


@bp.get("/anilist/jobs/<id:job_id>")
@login_required
def anilist_job(job_id: int):
    """A job's progress; polled by its own fragment until it is done or failed."""
    job = sync.get_job(current_user.id, job_id)  # another user's job: 404
    response = render_section(JOB, job=job)
    if is_htmx() and job.state in ("done", "failed"):
        response = _anilist_changed(toast(response, *_job_outcome(job)))
    return response


@bp.post("/anilist/disconnect")
@login_required
def anilist_disconnect():
    try:
        anilist.disconnect(current_user.id)
    except NotFound:
        message, level = "AniList was already disconnected.", "info"
    else:
        message, level = "Disconnected from AniList. Your library stays as it is.", "success"
    if not is_htmx():
        flash(message, level)
        return redirect(url_for("settings.index", _anchor="anilist"), 303)
    return toast(render_section(STATUS, **_anilist_context()), message, level)


def _start_job(kind: str, **options: str | bool) -> Response:
    try:
        job = sync.start_job(current_user.id, kind, **options)
    except (NotFound, Invalid) as error:  # disconnected in another tab, or a forged choice
        fragment = render_template("partials/_error.html", message=error.message)
        response = toast(make_response(fragment, error.status), error.message, "error")
        return _anilist_changed(response)
    if not is_htmx():
        return redirect(url_for("settings.anilist_job", job_id=job.id), 303)
    return render_section(JOB, job=job)


@section_context
def _page_context() -> dict:
    """A job still under way shows (and goes on polling) after a reload; otherwise the
    first-sync choice, while it is awaited."""
    job = sync.active_job(current_user.id)
    first_sync = _first_sync_preview() if job is None else None
    return {"job": job, "first_sync": first_sync, **_anilist_context()}


def _anilist_context() -> dict:
    status = anilist.status(current_user.id)
    return {
        "anilist": status,
        "how_to_configure": None if status["configured"] else anilist.how_to_configure(),
        # Only a real connection is announced, whatever the query string says.
        "just_connected": status["connected"] and bool(request.args.get("connected")),
    }


def _first_sync_preview() -> dict | None:
    """What the first merge would change, while the account waits for the choice."""
    account = anilist.account_for(current_user.id)
    if account is None or not account.first_sync_pending:
        return None
    try:
        return sync.preview_first_sync(current_user.id)
    except sync.AniListUnreachable as error:
        return {"error": error.message}


def _job_outcome(job: Job) -> tuple[str, str]:
    name = JOB_NAMES.get(job.kind, job.kind)
    if job.state == "failed":
        return f"{name} failed: {job.error}", "error"
    return f"{name} finished.", "success"


def _anilist_changed(response: Response) -> Response:
    return trigger(response, ANILIST_CHANGED)
