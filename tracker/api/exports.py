"""Taking your library with you: ``GET /api/library/export`` streams a file."""

from __future__ import annotations

from flask import Response, g, stream_with_context

from tracker.api.access import authenticate
from tracker.api.docs import AUTHENTICATED, ApiBlueprint
from tracker.schemas import ExportQuerySchema
from tracker.services import exports

bp = ApiBlueprint("export_api", __name__, url_prefix="/api/library", description="Your data")
bp.before_request(authenticate)

_FILE = {"schema": {"type": "string", "format": "binary"}}
_ANSWERS = {
    "description": "The file, streamed, as an attachment (`Content-Disposition`): "
    "`application/json` for `format=json`, `text/csv` for `csv`, `application/xml` for `mal`",
    "content": {"application/json": {"schema": {"type": "object"}},
                "text/csv": _FILE, "application/xml": _FILE},
    "headers": {
        "Content-Disposition": {"description": "attachment; filename=tracker-<type>-<date>.<ext>",
                                "schema": {"type": "string"}},
        "X-Total-Count": {"description": "How many items the file holds",
                          "schema": {"type": "integer"}},
    },
}  # fmt: skip


@bp.route("/export")
@bp.arguments(ExportQuerySchema, location="query")
@bp.doc(responses={"200": _ANSWERS})
@bp.errors(*AUTHENTICATED, 422, e422="A value is refused (`format=mal` needs a `type`)")
@bp.doc(description="JSON holds every field and each item's history, and imports back "
        "as it was; CSV is for spreadsheets (cells that would run as formulas start with "
        "`'`); MyAnimeList XML holds one type, and only titles with a MyAnimeList id.")  # fmt: skip
def export(query):
    """Download your library as a file."""
    export = exports.start(g.user, query["format"], query.get("type"))
    return Response(
        stream_with_context(export.chunks()),
        content_type=export.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"',
                 "X-Total-Count": str(export.total)},
    )  # fmt: skip
