from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import Schema, fields, validate

from tracker.api.access import authenticate, login_required
from tracker.api.docs import AUTHENTICATED, MUTATION, ApiBlueprint
from tracker.schemas import AniListStatusSchema, JobEnvelopeSchema, JobSchema
from tracker.services import anilist, sync
from tracker.services.errors import ServiceError

bp = ApiBlueprint("anilist_api", __name__, url_prefix="/api/anilist",
               description="Your AniList connection and two-way sync")  # fmt: skip
jobs_bp = ApiBlueprint("jobs_api", __name__, url_prefix="/api/jobs", description="Background jobs")
jobs_bp.before_request(authenticate)


class ConnectUrlSchema(Schema):
    url = fields.String()


class FirstSyncChoiceSchema(Schema):
    policy = fields.String(
        required=True,
        validate=validate.OneOf(sync.POLICIES),
        metadata={"description": "newest: the newer side of each title wins (recommended); "
                  "mine: this library wins; theirs: AniList wins"},
    )  # fmt: skip


class FirstSyncExampleSchema(Schema):
    item_id = fields.Integer()
    title = fields.String()
    field = fields.String()
    local = fields.Raw(allow_none=True)
    remote = fields.Raw(allow_none=True)
    winner = fields.String(metadata={"enum": ["local", "remote"]})


class FirstSyncPreviewSchema(Schema):
    pending = fields.Boolean(metadata={"description": "waiting for the owner's choice"})
    entries = fields.Integer(metadata={"description": "entries on the AniList list"})
    differ = fields.Integer(metadata={"description": "titles on both sides that differ"})
    local_newer = fields.Integer()
    remote_newer = fields.Integer()
    only_here = fields.Integer(metadata={"description": "would be created on AniList"})
    only_there = fields.Integer(metadata={"description": "would be added here"})
    examples = fields.List(fields.Nested(FirstSyncExampleSchema))


NOT_CONNECTED = "No AniList account is connected"
JOB_LOCATION = {"Location": {"description": "The job, to follow with GET /api/jobs/{id}",
                             "schema": {"type": "string"}}}  # fmt: skip


def _page(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


# The callback is where a person's browser lands: it answers pages, not JSON.
CALLBACK_DOC = {
    "parameters": [
        {"in": "query", "name": name, "required": name == "state", "schema": {"type": "string"}}
        for name in ("state", "code", "error")
    ],
    "responses": {
        "200": _page("Connected; the page says so"),
        "302": {"description": "Connected from this browser's session: back to Settings",
                "headers": {"Location": {"schema": {"type": "string"}}}},
        "400": _page("Refused: no, unknown, expired or reused state, or AniList said no"),
        "409": _page("AniList is not set up on this server"),
    },
}  # fmt: skip


@bp.route("/connect-url")
@bp.response(200, ConnectUrlSchema)
@bp.errors(*AUTHENTICATED, 409, e409="AniList is not set up on this server")
@login_required
def connect_url():
    """Where to send the person to approve Tracker on AniList (the state names them)."""
    return {"url": anilist.connect_url(g.user.id)}


@bp.route("/callback")
@bp.errors(503)
@bp.doc(security=[], **CALLBACK_DOC)
def callback():
    """The browser lands here from AniList. The state is checked before anything else."""
    args = request.args
    if args.get("error"):
        return _connect_page(f"AniList did not connect: {args['error']}.", 400)
    try:
        account = anilist.finish_connect(args.get("state"), args.get("code"))
    except ServiceError as error:
        return _connect_page(error.message, error.status)
    sync.settle_first_connect(account.user_id)
    if current_user.is_authenticated and current_user.id == account.user_id:
        return redirect(url_for("settings.index", connected=account.name))
    return _connect_page(f"Connected to AniList as {account.name}. You can close this page.", 200)


def _connect_page(message: str, status: int):
    return render_template("anilist/connected.html", message=message, ok=status == 200), status


@bp.route("/status")
@bp.response(200, AniListStatusSchema)
@bp.errors(*AUTHENTICATED)
@login_required
def status():
    """Connection, last sync, pending pushes and the last error."""
    return anilist.status(g.user.id)


@bp.route("/connection", methods=["DELETE"])
@bp.response(204)
@bp.errors(*MUTATION, 404, e404=NOT_CONNECTED)
@login_required
def disconnect():
    """Forget the AniList account (the library stays)."""
    anilist.disconnect(g.user.id)


@bp.route("/import", methods=["POST"])
@bp.response(202, JobEnvelopeSchema, headers=JOB_LOCATION)
@bp.errors(*MUTATION, 404, e404=NOT_CONNECTED)
@login_required
def start_import():
    """Import the whole AniList list in the background."""
    return _accepted(sync.start_job(g.user.id, "anilist_import"))


class SyncQuerySchema(Schema):
    full = fields.Boolean(
        load_default=False,
        metadata={"description": "read the whole AniList list again, not only the entries "
                  "changed since the last sync (entries deleted there show only then)"},
    )  # fmt: skip


@bp.route("/sync", methods=["POST"])
@bp.arguments(SyncQuerySchema, location="query")
@bp.response(202, JobEnvelopeSchema, headers=JOB_LOCATION)
@bp.errors(*MUTATION, 404, e404=NOT_CONNECTED)
@login_required
def start_sync(query):
    """Send pending changes, then apply what changed on AniList, in the background.

    Only the entries changed since the last sync are read, except on the first sync
    and once a day; ``full=true`` reads the whole list now."""
    return _accepted(sync.start_job(g.user.id, "anilist_sync", full=query["full"]))


@bp.route("/first-sync")
@bp.response(200, FirstSyncPreviewSchema)
@bp.errors(*AUTHENTICATED, 404, e404=NOT_CONNECTED,
           e503="The database or AniList cannot be read just now")  # fmt: skip
@login_required
def first_sync_preview():
    """What the first merge with AniList would change on each side.

    Reads the AniList list and changes nothing; ``examples`` shows a few differing
    fields with both values and the side the ``newest`` policy would keep."""
    return sync.preview_first_sync(g.user.id)


@bp.route("/first-sync", methods=["POST"])
@bp.json_body(FirstSyncChoiceSchema)
@bp.response(202, JobEnvelopeSchema, headers=JOB_LOCATION)
@bp.errors(*MUTATION, 404, e404=NOT_CONNECTED)
@login_required
def first_sync_apply(args):
    """Merge with AniList by the chosen policy, in the background.

    Until the choice is made, nothing is pulled or pushed for a newly connected
    account. Every value that loses is kept in its item's history as a conflict."""
    return _accepted(sync.start_job(g.user.id, sync.FIRST_SYNC, policy=args["policy"]))


def _accepted(job):
    return {"job": job}, 202, {"Location": url_for("jobs_api.job", job_id=job.id)}


@jobs_bp.route("/<id:job_id>")
@jobs_bp.response(200, JobSchema)
@jobs_bp.errors(*AUTHENTICATED, 404, e404="No such job, or not yours")
def job(job_id):
    """A background job's progress and result."""
    return sync.get_job(g.user.id, job_id)
