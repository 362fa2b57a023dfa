"""The settings page's import: upload a file, see its preview (a job the fragment polls),
then apply it. Each URL also answers the whole page, so it works with JavaScript off."""

from __future__ import annotations

from flask import Response, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker.extensions import db
from tracker.htmx import is_htmx, toast
from tracker.models import Job
from tracker.services import imports, sync
from tracker.services.errors import Invalid, NotFound
from tracker.settings.views import bp, render_section, section_context

FORM = "settings/partials/_import.html"
JOB = "settings/partials/_import_job.html"


@bp.post("/import")
@login_required
def import_upload():
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise Invalid("Choose a file to import.")
        job = imports.start_import(current_user.id, upload.read(), filename=upload.filename)
    except Invalid as error:
        if is_htmx():
            fragment = render_section(FORM, status=422, import_error=error.message)
            return toast(fragment, error.message, "error")
        return render_section(FORM, status=422, import_error=error.message)
    return _started(job)


@bp.post("/import/<id:job_id>/apply")
@login_required
def import_apply(job_id: int):
    mode = request.form.get("mode", "add")
    job = imports.start_apply(current_user.id, job_id, mode=mode,
                              push=request.form.get("push") == "1")  # fmt: skip
    return _started(job)


@bp.get("/import/jobs/<id:job_id>")
@login_required
def import_job(job_id: int):
    """An import's progress, then its preview or result; polled by its own fragment."""
    job = sync.get_job(current_user.id, job_id)  # another user's job: 404
    if job.kind not in imports.JOB_KINDS:
        raise NotFound("No such import.")
    return render_section(JOB, import_job=job, anilist_connected=_connected())


def _started(job: Job) -> Response:
    if not is_htmx():
        return redirect(url_for("settings.import_job", job_id=job.id), 303)
    return render_section(JOB, import_job=job, anilist_connected=_connected())


def _connected() -> bool:
    return bool(current_user.anilist_linked)  # loaded with the user: no query


@section_context
def _page_context() -> dict:
    """An import still under way shows (and goes on polling) after a reload."""
    job = db.session.scalar(
        select(Job)
        .where(Job.user_id == current_user.id, Job.kind.in_(imports.JOB_KINDS),
               Job.state.in_(("queued", "running")))
        .order_by(Job.id.desc()).limit(1)
    )  # fmt: skip
    return {"import_job": job, "import_error": None, "anilist_connected": _connected()}
