from __future__ import annotations

from flask import g, jsonify

from tracker import preferences
from tracker.api.access import authenticate
from tracker.api.docs import AUTHENTICATED, ApiBlueprint
from tracker.schemas import (
    MaxAnswerSchema,
    MaxQuerySchema,
    SearchAnswerSchema,
    SearchQuerySchema,
    SourceListSchema,
    SourceQuerySchema,
    search_answer_json,
)
from tracker.services import catalog

bp = ApiBlueprint(
    "sources_api",
    __name__,
    url_prefix="/api/sources",
    description="Titles from the local catalogue, AniList and MangaDex. A source that fails "
    "never turns an answer into an error: its state in `sources` says so.",
)
bp.before_request(authenticate)


@bp.route("/")
@bp.response(200, SourceListSchema)
@bp.errors(*AUTHENTICATED)
def sources():
    """The configured sources and how each answered last."""
    return {"sources": catalog.source_list()}


@bp.route("/search")
@bp.arguments(SearchQuerySchema, location="query")
@bp.response(200, SearchAnswerSchema)
@bp.errors(*AUTHENTICATED)
def search(query):
    """Full search: local catalogue plus every remote source (or only `source`)."""
    return catalog.search(g.user.id, query["q"], query.get("type"), query.get("source"),
                          language=_title_language())  # fmt: skip


@bp.route("/autocomplete")
@bp.arguments(SourceQuerySchema, location="query")
@bp.response(200, SearchAnswerSchema)
@bp.errors(*AUTHENTICATED)
def autocomplete(query):
    """Fast suggestions: local catalogue first, AniList only on a miss."""
    answer = catalog.autocomplete(g.user.id, query["q"], query.get("type"),
                                  language=_title_language())  # fmt: skip
    return jsonify(search_answer_json(answer))  # what SearchAnswerSchema says, built by hand


@bp.route("/max")
@bp.arguments(MaxQuerySchema, location="query")
@bp.response(200, MaxAnswerSchema)
@bp.errors(*AUTHENTICATED, 404, e404="No title matches")
def max_progress(query):
    """How many episodes or chapters a title has (`max` null when unknown).

    Name the title by `anilist_id` or by `q`: with neither, the answer is 422.
    """
    return catalog.max_progress(
        g.user.id,
        query=query.get("q"),
        anilist_id=query.get("anilist_id"),
        media_type=query.get("type"),
    )


def _title_language() -> str:
    return preferences.read(g.user.preferences).title_language
