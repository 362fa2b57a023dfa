"""Importing a file into the library: a preview job, then (or at once) the import."""

from __future__ import annotations

from flask import g, url_for
from marshmallow import Schema, fields, validate

from tracker.api.access import authenticate
from tracker.api.anilist import JOB_LOCATION
from tracker.api.docs import MUTATION, ApiBlueprint
from tracker.portability import FORMATS
from tracker.schemas import JobEnvelopeSchema
from tracker.services import imports
from tracker.services.errors import invalid

bp = ApiBlueprint("imports_api", __name__, url_prefix="/api/library",
                  description="Importing a MyAnimeList, Yamtrack or Tracker file")  # fmt: skip
bp.before_request(authenticate)

MODE = fields.String(
    load_default="add",
    validate=validate.OneOf(imports.MODES),
    metadata={"description": "add: new titles only, the library's own left alone; "
              "overwrite: also change the fields that differ (kept in each item's history)"},
)  # fmt: skip
PUSH = fields.Boolean(
    load_default=False,
    metadata={"description": "send what the import adds or changes to the connected AniList "
              "account; without it, titles on the AniList list are left as AniList has them"},
)  # fmt: skip


class ImportQuerySchema(Schema):
    format = fields.String(
        load_default=None,
        validate=validate.OneOf(FORMATS),
        metadata={"description": "the file's format; detected from its first bytes when left out"},
    )
    dry_run = fields.Boolean(
        load_default=True, metadata={"description": "only say what importing would do"}
    )
    mode = MODE
    push = PUSH


class ApplyQuerySchema(Schema):
    mode = MODE
    push = PUSH


class ImportFileSchema(Schema):
    file = fields.Raw(
        metadata={"type": "string", "format": "binary",
                  "description": "the export file (a MyAnimeList export may be gzipped)"},
    )  # fmt: skip


UNREADABLE = "No file, or not a file of the format given or of any format known"


@bp.route("/import", methods=["POST"])
@bp.arguments(ImportQuerySchema, location="query")
@bp.arguments(ImportFileSchema, location="files")
@bp.response(202, JobEnvelopeSchema, headers=JOB_LOCATION)
@bp.errors(*MUTATION, 422, e422=UNREADABLE)
def start_import(query, files):
    """Upload a file to import, in the background.

    The job's ``result``: ``{added, updated, unchanged, skipped, unmatched: [{row, title,
    reason}], would_push}`` — what was done or, for a dry run (the default), what would be.
    A dry run keeps the file a day, so ``POST /import/{job_id}/apply`` can import it."""
    upload = files.get("file")
    if upload is None or not hasattr(upload, "read"):
        raise invalid("file", "Send the file in the multipart field `file`.")
    job = imports.start_import(g.user.id, upload.read(), filename=upload.filename, **query)
    return _accepted(job)


@bp.route("/import/<id:job_id>/apply", methods=["POST"])
@bp.arguments(ApplyQuerySchema, location="query")
@bp.response(202, JobEnvelopeSchema, headers=JOB_LOCATION)
@bp.errors(*MUTATION, 404, 409, e404="No such import, or not yours",
           e409="The file of that import is no longer kept: upload it again")  # fmt: skip
def apply_import(query, job_id):
    """Import the file of an earlier preview, without uploading it again."""
    return _accepted(imports.start_apply(g.user.id, job_id, **query))


def _accepted(job):
    return {"job": job}, 202, {"Location": url_for("jobs_api.job", job_id=job.id)}
