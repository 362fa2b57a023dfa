"""The library pages: the full page on a normal load, fragments for htmx.

Every row action answers with the changed row, which htmx swaps over ``closest tr``;
a delete answers an empty body, so the row goes. A change the service refuses answers
422 with the row re-rendered around the message. Progress above a known max or below
0 is refused (the service's rule), not clamped: a click from a stale tab never lands
somewhere the person did not see. An item that is gone (deleted in another tab, or
never theirs) answers 404 with a row that says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, ValidationError

from tracker import preferences, scores
from tracker.htmx import is_htmx, render, toast, toast_action, trigger
from tracker.library import display, related, suggestions
from tracker.models import MEDIA_TYPES, LibraryItem, Origin, Status
from tracker.schemas import (
    MAX_TITLE,
    IncrementSchema,
    ItemCreateSchema,
    ItemEditSchema,
    ItemQuerySchema,
    first_messages,
    load_form,
)
from tracker.services import accounts, catalog, history, library, upnext
from tracker.services.errors import Conflict, Invalid, NotFound, ServiceError
from tracker.upnext import views as upnext_views

bp = Blueprint("library", __name__)
display.register_template_helpers(bp)

ROW = "library/partials/_row.html"
# Fields an Undo of a status change sets back (the status rules may have moved the others).
UNDONE_WITH_STATUS = ("status", "progress", "started_on", "completed_on")
# Statuses a last episode does not complete on its own: the toast asks first.
ASK_BEFORE_COMPLETING = (Status.PAUSED.value, Status.DROPPED.value)
GONE = "This item no longer exists in your library (removed in another tab?)."
# Fired with a change that moves the counts; the summary above the list refreshes itself.
COUNTS_CHANGED = "library-changed"
DEFAULT_QUERY = ItemQuerySchema().load({})
INCREMENT = IncrementSchema()  # one schema for every +1: it keeps no state between loads
bp.add_app_template_global(DEFAULT_QUERY["per_page"], "DEFAULT_PER_PAGE")
bp.add_app_template_global(catalog.MAX_QUERY, "MAX_SEARCH")

Errors = dict[str, list[str]]
# What the toast says once a conflict is settled, by the side picked.
RESOLVED = {"local": "{title}: conflict resolved with the value from here",
            "remote": "{title}: conflict resolved with AniList’s value"}  # fmt: skip


# --- browsing ----------------------------------------------------------------


@bp.get("/library")
@login_required
def index():
    query, ignored = _list_query(request.args)
    return _list_page(query, ignored, preferences.current().library_view)


@bp.get("/")
@login_required
def home():
    """``/`` opens on up next once the library is not empty (on the library before:
    its empty state says how to fill it). A filtered or htmx request is the library's,
    as ``/`` always answered it."""
    g.nav_endpoint = "library.index"  # the nav marks the page shown as the current one
    if request.args or is_htmx():
        return index()
    board = upnext.up_next(current_user.id, language=preferences.current().title_language)
    if board.library_size == 0:
        return index()
    g.nav_endpoint = "upnext.page"
    return upnext_views.show(board)


@bp.post("/library/view")
@login_required
def change_view():
    """Dense rows, rows with covers or posters, kept for the person; answers the list as
    the filters sent along (``hx-include``) choose it."""
    view = request.form.get("view", "")
    if view not in preferences.LIBRARY_VIEWS:
        raise Invalid(f"Choose one of: {', '.join(preferences.LIBRARY_VIEWS)}.")
    accounts.update_profile(current_user.id, {"library_view": view})
    query, ignored = _list_query(request.form)
    if not is_htmx():
        return redirect(_page_url(query, query["page"]), 303)
    return _list_page(query, ignored, view)


def _list_page(query: dict, ignored: list[str], view: str) -> Response:
    page = library.list_items(current_user.id, **query)
    summary = library.summary(current_user.id)
    return render(
        "library/index.html",
        "library/partials/_list.html",
        **_list_context(page, query, ignored),
        summary=summary,
        tabs=_tabs(query, summary),
        oob_tabs=is_htmx(),
        view=view,
        # Only the full page has the filters; an htmx swap of the list skips the query.
        custom_lists=[] if is_htmx() else library.custom_lists(current_user.id),
        **_add_context(values={"type": query.get("type") or ""}),
    )


@bp.get("/library/summary")
@login_required
def summary():
    """The status tabs again, for the filters the page holds (sent with ``hx-include``)."""
    query, _ignored = _list_query(request.args)
    counts = library.summary(current_user.id)
    return render_template(
        "library/partials/_tabs.html", summary=counts, query=query, tabs=_tabs(query, counts)
    )


def _tabs(query: dict, summary: dict) -> list[tuple[str, int, str]]:
    """(status, count, url) for "all" ("") and each status with titles, or chosen."""
    shown = [""] + [s for s in display.STATUS_ORDER
                    if summary["by_status"].get(s) or s == query.get("status")]  # fmt: skip
    return [
        (status, summary["by_status"].get(status, 0) if status else summary["total"],
         _page_url({**query, "status": status or None}, 1))
        for status in shown
    ]  # fmt: skip


def _list_query(args: Mapping[str, str]) -> tuple[dict, list[str]]:
    """The filters in the URL; an invalid one falls back to its default, with a note.
    The sort, when the URL names none, is the person's default sort."""
    defaults = {"sort": preferences.current().default_sort}
    given = {key: value for key, value in args.items() if value != ""}  # empty means "any"
    schema = ItemQuerySchema(unknown=EXCLUDE)
    try:
        return schema.load({**defaults, **given}), []
    except ValidationError as exc:
        problems = first_messages(exc)
    ignored = [f"{key}={given.get(key, '')}: {' '.join(m)}" for key, m in problems.items()]
    kept = {k: v for k, v in given.items() if k not in problems}
    return schema.load({**defaults, **kept}), ignored


def _list_context(page: library.Page, query: dict, ignored: list[str]) -> dict:
    return {
        "page": page,
        "query": query,
        "ignored": ignored,
        "prev_url": _page_url(query, page.page - 1) if page.page > 1 else None,
        "next_url": _page_url(query, page.page + 1) if page.page < page.pages else None,
    }


def _page_url(query: dict, number: int) -> str:
    defaults = {**DEFAULT_QUERY, "sort": preferences.current().default_sort}
    args = {k: v for k, v in {**query, "page": number}.items()
            if defaults.get(k) != v and v is not None}  # fmt: skip
    return url_for("library.index", **args)


# --- adding ------------------------------------------------------------------


@bp.get("/suggestions")
@login_required
def suggest():
    """Local catalogue first, AniList on a miss; a source that did not answer is named.
    Anime and manga together unless the URL names a type (the page's search bar does
    not: a chip on each suggestion says which it is)."""
    q = request.args.get("q", "").strip()[:MAX_TITLE]
    media_type = request.args.get("type") if request.args.get("type") in MEDIA_TYPES else None
    found, notice, problem = [], None, None
    if q:  # an empty box answers an empty list, and asks nobody
        try:
            answer = catalog.autocomplete(
                current_user.id, q, media_type, language=preferences.current().title_language
            )
        except Invalid as error:  # too long to search for
            problem = error.message
        else:
            found, notice = answer.results, suggestions.source_notice(answer.sources)
    return render(
        "library/new.html",
        "library/partials/_suggestions.html",
        status=422 if problem else 200,
        **_add_context(q=q, found=found),
        notice=notice,
        problem=problem,
    )


@bp.get("/items/new")
@login_required
def new_item():
    """The add form, filled in from a picked suggestion's query string (or blank)."""
    return render(
        "library/new.html", "library/partials/_picked.html", **_add_context(values=request.args)
    )


@bp.post("/items")
@login_required
def add():
    """The hand form (answered with a fresh form) or a suggestion added in one step from
    the search bar (``HX-Target: suggestions``, answered with the list put away); either
    way the new row goes on top of the list. A title already there says where it is."""
    quick = is_htmx() and request.headers.get("HX-Target") == "suggestions"
    try:
        data = load_form(ItemCreateSchema(), request.form)
        item = library.add_item(current_user.id, data, Origin.WEB)
    except (ValidationError, ServiceError) as exc:
        status, errors = _problems(exc)
        existing = exc.item_id if isinstance(exc, library.AlreadyInLibrary) else None
        if quick:
            response = make_response(
                render_template("library/partials/_suggestions.html",
                                **_add_context(existing=existing), problem=_sentence(errors)),
                status,
            )  # fmt: skip
        else:
            context = _add_context(values=request.form, errors=errors, existing=existing)
            response = render(
                "library/new.html", "library/partials/_add_panel.html", status=status, **context
            )
        return toast(response, _sentence(errors), "error")
    message = f"Added {item.title} as {display.status_label(item.status, item.media_type)}"
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("library.index"), 303)
    page = render_template("library/partials/_added.html", item=item, quick=quick, **_add_context())
    return _counts_changed(toast(make_response(page), message))


def _add_context(
    *,
    values: Mapping[str, str] | None = None,
    errors: Errors | None = None,
    q: str = "",
    found: list | None = None,
    existing: int | None = None,
) -> dict:
    """What the hand form and the suggestions show; ``existing`` is the item a refused
    duplicate already is, for a link to it."""
    return {"values": values or {}, "errors": errors or {}, "q": q, "suggestions": found or [],
            "existing": existing}  # fmt: skip


# --- one item ----------------------------------------------------------------


@bp.get("/items/<id:item_id>")
@login_required
def detail(item_id: int):
    return _detail_page(library.get_item(current_user.id, item_id))


@bp.get("/items/<id:item_id>/sync")
@login_required
def sync_state(item_id: int):
    """The item's sync badge, polled while a push is pending; gone items answer nothing."""
    try:
        item = library.get_item(current_user.id, item_id)
    except NotFound:
        return make_response("", 404)
    return render_template("library/partials/_sync_badge.html", item=item)


@bp.post("/items/<id:item_id>/increment")
@login_required
def increment(item_id: int):
    def change() -> library.Change:
        by = load_form(INCREMENT, request.form)["by"]
        return library.increment_progress(
            current_user.id, item_id, by, Origin.WEB, linked=current_user.anilist_linked
        )

    if _targets_detail():
        return _detail_change(item_id, change, said_as_row=True)
    return _row_change(item_id, change)


@bp.post("/items/<id:item_id>")
@login_required
def update(item_id: int):
    """A patch from a row control (answered with the row) or the detail page's form."""

    def change() -> library.Change:
        changes = load_form(ItemEditSchema(), _score_as_stored(request.form), partial=True)
        return library.update_item(current_user.id, item_id, changes, Origin.WEB)

    if is_htmx() and request.headers.get("HX-Target") == f"item-{item_id}":
        return _row_change(item_id, change)
    # One control at the top of the item page sends one field; the form sends them all.
    return _detail_change(item_id, change, said_as_row=set(request.form) <= {"status", "score"})


@bp.delete("/items/<id:item_id>")
@login_required
def delete(item_id: int):
    """The row goes; an empty placeholder keeps its place for the toast's Undo."""
    try:
        title = library.delete_item(current_user.id, item_id, Origin.WEB)
    except NotFound:
        response = toast(make_response(""), "That item was already gone.", "info")
    else:
        placeholder = render_template("library/partials/_removed_row.html", item_id=item_id)
        undo = toast_action(
            "Undo", url_for("library.restore", item_id=item_id), target=f"#item-{item_id}"
        )
        response = toast(make_response(placeholder), f"Removed {title}", action=undo)
    return _counts_changed(response)


@bp.post("/items/<id:item_id>/restore")
@login_required
def restore(item_id: int):
    """Undo a removal: the row again (htmx puts it where it was), or back to the library."""
    try:
        item = library.restore_item(current_user.id, item_id, Origin.WEB)
    except (NotFound, Conflict) as error:
        if not is_htmx():
            raise
        return toast(make_response("", error.status), error.message, "error")
    message = f"Restored {display.item_title(item)}"
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("library.index"), 303)
    return _counts_changed(toast(make_response(render_template(ROW, item=item)), message))


@bp.post("/items/<id:item_id>/conflicts/<id:event_id>")
@login_required
def resolve_conflict(item_id: int, event_id: int):
    """A conflict in the history settled: use the other value, or keep the one applied."""
    use = request.form.get("use", "")

    def change() -> LibraryItem:
        item, _event = history.resolve(current_user.id, item_id, event_id, use, Origin.WEB)
        return item

    try:
        return _detail_change(item_id, change, saved=RESOLVED.get(use, "{title}: resolved"))
    except Conflict as error:  # the item was removed meanwhile: say so where it happened
        fragment = render_template("partials/_error.html", message=error.message)
        return toast(make_response(fragment, 409), error.message, "error")


def _row_change(item_id: int, change: Callable[[], library.Change]) -> Response:
    """The row after ``change``; the service says what moved, so nothing is read first."""
    try:
        done = change()
    except NotFound:
        return _gone_row(item_id)
    except (ValidationError, ServiceError) as exc:
        _status, errors = _problems(exc)
        item = library.get_item(current_user.id, item_id)
        row = render_template(ROW, item=item, error=_sentence(errors), error_fields=errors)
        return toast(make_response(row, 422), f"{item.title}: {_sentence(errors)}", "error")
    message = _row_message(done)
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("library.index"), 303)
    row = make_response(render_template(ROW, item=done.item))
    response = toast(
        row,
        message,
        action=_row_action(done, asked="status" in request.form),
        offer=related.sequel_action(done),
    )
    return _counts_changed(response) if "status" in done.changes else response


def _gone_row(item_id: int) -> Response:
    if not is_htmx():
        abort(404, GONE)
    row = render_template("library/partials/_gone_row.html", item_id=item_id, message=GONE)
    return toast(make_response(row, 404), GONE, "error")


def _row_message(done: library.Change) -> str:
    return display.change_message(done, done.item.title, still=_asks_to_complete(done))


def _asks_to_complete(done: library.Change) -> bool:
    """A paused or dropped title just reached its last episode: it stays as it is
    (status never changes behind the person's back) and the toast offers to complete it."""
    item = done.item
    return (
        "progress" in done.changes
        and item.status in ASK_BEFORE_COMPLETING
        and item.max_progress is not None
        and item.progress == item.max_progress
    )


def _row_action(done: library.Change, *, asked: bool) -> dict | None:
    """The toast's button after a row change: Undo for a status the person chose (the
    fields it moved go back, as an ordinary edit), Mark completed at a last episode."""
    url, target = url_for("library.update", item_id=done.item.id), f"#item-{done.item.id}"
    if _asks_to_complete(done):
        return toast_action("Mark completed", url, values={"status": "completed"}, target=target)
    if asked and "status" in done.changes:
        before = {f: done.changes[f][0] for f in UNDONE_WITH_STATUS if f in done.changes}
        values = {f: "" if v is None else str(v) for f, v in before.items()}
        return toast_action("Undo", url, values=values, target=target)
    return None


def _targets_detail() -> bool:
    """Whether a control on the item page sent this (it swaps the whole item block)."""
    return is_htmx() and request.headers.get("HX-Target") == "item-detail"


def _detail_change(
    item_id: int,
    change: Callable[[], LibraryItem | library.Change],
    *,
    saved: str = "Saved {title}",
    said_as_row: bool = False,
) -> Response:
    """The item block after ``change``; a change from a control at the top (status, minus and plus,
    score: ``said_as_row``) is said as the row says it."""
    try:
        done = change()
        item = done.item if isinstance(done, library.Change) else done
        if said_as_row and isinstance(done, library.Change):
            saved = _row_message(done).replace("{", "{{").replace("}", "}}")
    except (NotFound, Conflict):
        raise
    except (ValidationError, ServiceError) as exc:
        status, errors = _problems(exc)
        item = library.get_item(current_user.id, item_id)
        page = _detail_page(item, values=request.form, errors=errors, status=status)
        return toast(page, _sentence(errors), "error")
    if not is_htmx():
        flash(saved.format(title=item.title), "success")
        return redirect(url_for("library.detail", item_id=item_id), 303)
    offer = related.sequel_action(done)
    return _counts_changed(toast(_detail_page(item), saved.format(title=item.title), offer=offer))


def _detail_page(
    item: LibraryItem,
    *,
    values: Mapping[str, str] | None = None,
    errors: Errors | None = None,
    status: int = 200,
) -> Response:
    return render(
        "library/item.html",
        "library/partials/_detail.html",
        status=status,
        item=item,
        history=history.for_page(item),
        relations=related.page_relations(item),
        values=values or {},
        errors=errors or {},
    )


# --- helpers -----------------------------------------------------------------


def _score_as_stored(form: Mapping[str, str]) -> dict[str, str]:
    """The form with its score, typed or picked in the person's format, as the 0-100 the
    service takes; left out when it reads as the page showed it (``score_was``), so a
    rounded score is not rounded again by saving another field."""
    fields = {name: value for name, value in form.items() if name != "score_was"}
    if "score" in fields:
        try:
            score = scores.from_form(
                fields.pop("score"), preferences.current().score_format, form.get("score_was")
            )
        except scores.ScoreError as error:
            raise ValidationError({"score": [error.message]}) from error
        if score is not scores.KEEP:
            fields["score"] = "" if score is None else str(score)
    return fields


def _problems(error: ValidationError | ServiceError) -> tuple[int, Errors]:
    """A status and ``{field: [message]}``; ``_form`` holds what belongs to no field."""
    if isinstance(error, ValidationError):
        return 422, first_messages(error)
    return error.status, error.fields or {"_form": [error.message]}


def _sentence(errors: Errors) -> str:
    parts = []
    for field, messages in errors.items():
        said = " ".join(messages)
        parts.append(said if field == "_form" else f"{display.field_label(field)}: {said}")
    return "; ".join(parts)


def _counts_changed(response: Response) -> Response:
    return trigger(response, COUNTS_CHANGED)
