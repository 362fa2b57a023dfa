from __future__ import annotations

from flask import g, jsonify, request, url_for
from flask.views import MethodView

from tracker import preferences
from tracker.api.access import authenticate
from tracker.api.docs import AUTHENTICATED, MUTATION, ApiBlueprint
from tracker.schemas import (
    EditedItemSchema,
    EventSchema,
    IncrementSchema,
    ItemCreateSchema,
    ItemEditSchema,
    ItemQuerySchema,
    ItemSchema,
    PageQuerySchema,
    RefreshAnswerSchema,
    ResolvedSchema,
    ResolveSchema,
    SummarySchema,
    UpNextQuerySchema,
    UpNextSchema,
    item_json,
)
from tracker.services import history, library, relations, upnext

bp = ApiBlueprint("library_api", __name__, url_prefix="/api/library", description="Your library")
bp.before_request(authenticate)

NOT_YOURS = "Not in your library"
PAGING_HEADERS = {
    "X-Total-Count": {"description": "Items matching, on all pages", "schema": {"type": "integer"}},
    "Link": {"description": "`first`, `prev`, `next` (absent on the last page) and `last`",
             "schema": {"type": "string"}},
}  # fmt: skip


@bp.route("/items")
class Items(MethodView):
    @bp.arguments(ItemQuerySchema, location="query")
    @bp.response(200, ItemSchema(many=True), headers=PAGING_HEADERS)
    @bp.errors(*AUTHENTICATED)
    @bp.doc(description="Total in `X-Total-Count`; pages in `Link` (next, prev, first, last).")
    def get(self, query):
        """List your items, filtered, sorted and paged."""
        page = library.list_items(g.user.id, **query)
        return page.items, 200, _paging_headers(page, query, "library_api.Items")

    @bp.json_body(ItemCreateSchema)
    @bp.response(201, ItemSchema)
    @bp.errors(*MUTATION, 409, e409="Already in your library")
    def post(self, body):
        """Add a title, from a source or typed by hand (`source: manual`)."""
        return library.add_item(g.user.id, body, g.origin)


@bp.route("/items/<id:item_id>")
class Item(MethodView):
    @bp.response(200, ItemSchema)
    @bp.errors(*AUTHENTICATED, 404, e404=NOT_YOURS)
    def get(self, item_id):
        """One item."""
        return library.get_item(g.user.id, item_id)

    @bp.json_body(ItemEditSchema)
    @bp.response(200, EditedItemSchema)
    @bp.errors(*MUTATION, 404, e404=NOT_YOURS)
    def patch(self, body, item_id):
        """Change any editable field."""
        return _with_sequel(library.update_item(g.user.id, item_id, body, g.origin))

    @bp.response(204)
    @bp.errors(*MUTATION, 404, e404=NOT_YOURS)
    def delete(self, item_id):
        """Remove an item."""
        library.delete_item(g.user.id, item_id, g.origin)


@bp.route("/items/<id:item_id>/restore", methods=["POST"])
@bp.response(201, ItemSchema)
@bp.errors(*MUTATION, 404, 409, e404="You never had this item",
           e409="Already in your library, or it can't be restored")  # fmt: skip
def restore(item_id):
    """Undo a removal: the item comes back as it was, with the same id and its history.

    It is pushed to AniList like a new item.
    """
    return library.restore_item(g.user.id, item_id, g.origin)


@bp.route("/items/<id:item_id>/increment", methods=["POST"])
@bp.json_body(IncrementSchema, required=False)
@bp.response(200, EditedItemSchema)
@bp.errors(*MUTATION, 404, e404=NOT_YOURS)
def increment(body, item_id):
    """Add to progress (negative `by` goes back); simultaneous calls all count.

    The body is optional: none means `{"by": 1}`.
    """
    done = library.increment_progress(
        g.user.id, item_id, body["by"], g.origin, linked=g.user.anilist_linked
    )
    # What EditedItemSchema says, without dumping through it (the answer a click waits for).
    answer = item_json(done.item)
    if sequel := _sequel_of(done):
        answer["sequel"] = sequel
    return jsonify(answer)


@bp.route("/items/<id:item_id>/refresh", methods=["POST"])
@bp.response(200, RefreshAnswerSchema)
@bp.errors(*MUTATION, 404, 409, e404="Not in your library, or AniList has no such title",
           e409="The item is not linked to AniList")  # fmt: skip
def refresh(item_id):
    """Re-read the item's metadata (total, cover, format…) from AniList.

    When AniList cannot answer, the item comes back unchanged and `sources` says why.
    """
    item, state = library.refresh_item(g.user.id, item_id)
    return {"item": item, "sources": {"anilist": state}}


@bp.route("/items/<id:item_id>/events")
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, EventSchema(many=True), headers=PAGING_HEADERS)
@bp.errors(*AUTHENTICATED, 404, 422, e404=NOT_YOURS)
@bp.doc(description="Newest first. Total in `X-Total-Count`; pages in `Link`. The history "
        "goes with its item: a removed item's is not found. A conflict carries both values "
        "and whether it was resolved.")  # fmt: skip
def events(query, item_id):
    """The item's history."""
    page = history.page_of(g.user.id, item_id, **query)
    return page.items, 200, _paging_headers(page, query, "library_api.events", item_id=item_id)


@bp.route("/items/<id:item_id>/events/<id:event_id>/resolve", methods=["POST"])
@bp.json_body(ResolveSchema)
@bp.response(200, ResolvedSchema)
@bp.errors(*MUTATION, 404, 409, e404="No such conflict in your library",
           e409="The item has been removed")  # fmt: skip
@bp.doc(description="`use` the side that lost applies its values as an ordinary edit "
        "(pushed to AniList like any edit); the side that won only marks the conflict "
        "resolved. Resolving twice changes nothing.")  # fmt: skip
def resolve(body, item_id, event_id):
    """Settle a sync conflict: keep the value here (`local`) or AniList's (`remote`)."""
    item, event = history.resolve(g.user.id, item_id, event_id, body["use"], g.origin)
    return {"item": item, "event": event}


@bp.route("/summary")
@bp.response(200, SummarySchema)
@bp.errors(*AUTHENTICATED)
def summary():
    """How many items you have, by status and by type."""
    return library.summary(g.user.id)


def _with_sequel(change: library.Change) -> dict:
    """The item, and the sequel to add next when the change completed it."""
    return {"item": change.item, "sequel": _sequel_of(change)}


def _sequel_of(change: library.Change) -> dict | None:
    """The sequel to add next when the change completed the title (no statement
    otherwise)."""
    sequels = relations.sequel_after(change)
    if not sequels:
        return None
    language = preferences.read(g.user.preferences).title_language
    return relations.sequel_summary(sequels[0], language)


@bp.route("/next")
@bp.arguments(UpNextQuerySchema, location="query")
@bp.response(200, UpNextSchema)
@bp.errors(*AUTHENTICATED, 422)
def next_up(query):
    """What to watch or read next: your current and repeating titles with something out
    beyond your progress, and those you are caught up with."""
    language = preferences.read(g.user.preferences).title_language
    return upnext.up_next(g.user.id, language=language, limit=query["limit"]).as_dict()


def _paging_headers(
    page: library.Page, query: dict, endpoint: str, **view_args: int
) -> dict[str, str]:
    def link(number: int, rel: str) -> str:
        args = {**query, **request.args.to_dict(), "page": number, "per_page": page.per_page}
        return f'<{url_for(endpoint, _external=True, **view_args, **args)}>; rel="{rel}"'

    links = [link(1, "first")]
    if page.page > 1:
        links.append(link(min(page.page - 1, page.pages), "prev"))
    if page.page < page.pages:
        links.append(link(page.page + 1, "next"))
    links.append(link(page.pages, "last"))
    return {"X-Total-Count": str(page.total), "Link": ", ".join(links)}
