"""Related titles on the item page, and the sequel a completed title offers in its toast.

The library views call two hooks from here: ``sequel_action`` where a change's toast is
built, and ``page_relations`` where the item page is. Adding a related (or sequel) title
is one POST, answered for where it came from: the Related section's entry swapped in
place, or (from a toast) the new row on top of the library list and the entry on the
item page, whichever the page shows.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from tracker import preferences
from tracker.htmx import current_page, is_htmx, toast, toast_action, toast_link, trigger
from tracker.library import display
from tracker.models import LibraryItem, Origin
from tracker.services import library, relations
from tracker.services.errors import ServiceError

bp = Blueprint("related", __name__)

ENTRY = "library/partials/_related_entry.html"
LONGEST_TITLE_IN_BUTTON = 60
COUNTS_CHANGED = "library-changed"  # as the library views fire it


def sequel_action(done: object) -> dict | None:
    """The toast's "Add <sequel> to planning" button when ``done`` (a library change) just
    completed a title whose sequel AniList knows and the library lacks; None otherwise,
    without a statement unless the change completed something. The first sequel is
    offered; the item page lists the rest."""
    if not isinstance(done, library.Change):
        return None
    sequels = relations.sequel_after(done)
    if not sequels:
        return None
    sequel = sequels[0]
    title = _shortened(relations.display_title(sequel, _language()))
    return toast_action(
        f"Add {title} to planning", url_for("library.related.plan", media_id=sequel.id)
    )


def page_relations(item: LibraryItem) -> relations.Relations | None:
    """What the item page's Related section shows; None for an htmx swap of the item
    block, which leaves the section (outside the block) as it is."""
    if is_htmx():
        return None
    return relations.for_item(current_user.id, item, _language())


@bp.post("/catalogue/<id:media_id>/planning")
@login_required
def plan(media_id: int):
    """Add the catalogue title ``media_id`` as planning (a related title or a sequel)."""
    language = _language()
    try:
        item = relations.add_to_planning(current_user.id, media_id, Origin.WEB, language)
    except library.AlreadyInLibrary as error:
        return _already_there(media_id, error)
    except ServiceError as error:  # not in the catalogue (404), not addable (422), a race (409)
        return _refused(error)
    title = display.item_title(item)
    message = f"Added {title} to {display.status_label(item.status, item.media_type)}"
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("library.detail", item_id=item.id), 303)
    entry = relations.related_entry(current_user.id, media_id, language)
    response = make_response(_answer(item, entry))
    link = toast_link("Open", url_for("library.detail", item_id=item.id))
    return trigger(toast(response, message, link=link), COUNTS_CHANGED)


def _answer(item: LibraryItem, entry: relations.Related) -> str:
    """The Related entry for a swap in place; from a toast, the pieces the page shows,
    out of band (the new row on the library list, the entry on an item page)."""
    if _in_place(entry.media.id):
        return render_template(ENTRY, entry=entry)
    shown = urlsplit(current_page()).path
    return render_template(
        "library/partials/_related_added.html",
        item=item,
        entry=entry,
        on_list=shown == url_for("library.index"),
        on_item_page=shown.startswith("/items/"),
    )


def _already_there(media_id: int, error: library.AlreadyInLibrary) -> Response:
    """A second click (or a title added meanwhile): say where it is, add nothing."""
    if not is_htmx():
        flash(error.message, "info")
        return redirect(url_for("library.detail", item_id=error.item_id), 303)
    if _in_place(media_id):
        entry = relations.related_entry(current_user.id, media_id, _language())
        response = make_response(render_template(ENTRY, entry=entry), 409)
    else:
        response = _no_swap(make_response("", 409))
    link = toast_link("Open it", url_for("library.detail", item_id=error.item_id))
    return toast(response, error.message, "info", link=link)


def _refused(error: ServiceError) -> Response:
    if not is_htmx():
        raise error
    response = _no_swap(make_response("", error.status))
    return toast(response, error.message, "error")


def _in_place(media_id: int) -> bool:
    """Whether the Related section's entry asked (it swaps itself)."""
    return is_htmx() and request.headers.get("HX-Target") == f"related-{media_id}"


def _no_swap(response: Response) -> Response:
    """Leave the page as it is (a 404 or 409 would swap otherwise: see base.html)."""
    response.headers["HX-Reswap"] = "none"
    return response


def _language() -> str | None:
    return preferences.current().title_language


def _shortened(title: str) -> str:
    if len(title) <= LONGEST_TITLE_IN_BUTTON:
        return title
    return title[: LONGEST_TITLE_IN_BUTTON - 1].rstrip() + "…"
