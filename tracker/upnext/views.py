"""Up next (``/next``, and ``/`` once the library is not empty): what is out to watch
or read now, and what the person is waiting for.

A card's +1 answers with the card again, which htmx swaps in place; a +1 that
completes the title answers with an empty placeholder (the card goes) and a toast
whose Undo puts the card back there.
"""

from __future__ import annotations

from datetime import datetime

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
from marshmallow import ValidationError

from tracker import preferences
from tracker.htmx import is_htmx, render, toast, toast_action
from tracker.library import display
from tracker.models import Status
from tracker.schemas import ItemEditSchema, first_messages, load_form
from tracker.services import upnext
from tracker.services.errors import NotFound, ServiceError

bp = Blueprint("upnext", __name__)

CARD = "upnext/partials/_card.html"
GONE = "This title is no longer in your library (removed in another tab?)."
# What an Undo of a completing +1 sets back.
UNDONE = ("status", "progress", "completed_on")


@bp.get("/next")
@login_required
def page() -> Response:
    return show(_board())


def show(board: upnext.UpNext) -> Response:
    """The page (or, for htmx, the board) for a board already built (``/`` builds it
    to choose between up next and the library)."""
    return render("upnext/index.html", "upnext/partials/_board.html", board=board)


@bp.post("/next/<id:item_id>/increment")
@login_required
def increment(item_id: int) -> Response:
    try:
        done = upnext.watch_one(current_user.id, item_id, linked=current_user.anilist_linked,
                                language=_language())  # fmt: skip
    except NotFound:
        return _gone(item_id)
    except ServiceError as error:
        return _refused(item_id, error.message)
    return _answer(done, undo=True)


@bp.post("/next/<id:item_id>/undo")
@login_required
def undo(item_id: int) -> Response:
    """The toast's Undo after a +1 completed the title: the card comes back."""
    try:
        changes = load_form(ItemEditSchema(), _undo_fields(), partial=True)
        done = upnext.set_back(current_user.id, item_id, changes, language=_language())
    except NotFound:
        return _gone(item_id)
    except ValidationError as error:
        messages = "; ".join(" ".join(m) for m in first_messages(error).values())
        return toast(make_response("", 422), messages, "error")
    except ServiceError as error:
        return toast(make_response("", error.status), error.message, "error")
    return _answer(done, undo=False)


def _answer(done: upnext.Watched, *, undo: bool) -> Response:
    item, entry = done.change.item, done.entry
    message = _message(done)
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("upnext.page"), 303)
    if entry is not None:
        return toast(make_response(render_template(CARD, entry=entry)), message)
    placeholder = render_template("upnext/partials/_left.html", item_id=item.id)
    action = None
    if undo and done.change.changes.get("status", [None, None])[1] == Status.COMPLETED:
        before = {f: done.change.changes[f][0] for f in UNDONE if f in done.change.changes}
        values = {f: "" if v is None else str(v) for f, v in before.items()}
        action = toast_action("Undo", url_for("upnext.undo", item_id=item.id), values=values,
                              target=f"#next-{item.id}")  # fmt: skip
    return toast(make_response(placeholder), message, action=action)


def _message(done: upnext.Watched) -> str:
    title = done.entry.title if done.entry is not None else display.item_title(done.change.item)
    return display.change_message(done.change, title)


def _gone(item_id: int) -> Response:
    if not is_htmx():
        flash(GONE, "error")
        return redirect(url_for("upnext.page"), 303)
    placeholder = render_template("upnext/partials/_left.html", item_id=item_id)
    return toast(make_response(placeholder, 404), GONE, "error")


def _refused(item_id: int, message: str) -> Response:
    """The card again, saying why (at its last episode already, say)."""
    entry = upnext.entry_for(current_user.id, item_id, language=_language())
    if not is_htmx():
        flash(message, "error")
        return redirect(url_for("upnext.page"), 303)
    if entry is None:
        fragment = render_template("upnext/partials/_left.html", item_id=item_id)
    else:
        fragment = render_template(CARD, entry=entry, error=message)
    return toast(make_response(fragment, 422), message, "error")


def _undo_fields() -> dict[str, str]:
    return {name: request.form[name] for name in UNDONE if name in request.form}


def _board() -> upnext.UpNext:
    return upnext.up_next(current_user.id, language=_language())


def _language() -> str:
    return preferences.current().title_language


@bp.app_template_global()
def airs_when(moment: datetime | None) -> str:
    """When the next episode comes, in the person's zone: "today at 20:30", "tomorrow
    at 20:30", "in 3 days (Sat 20:30)"."""
    if moment is None:
        return "at a time not known yet"
    zone = preferences.zone(preferences.current().timezone)
    local = moment.astimezone(zone)
    days = (local.date() - datetime.now(zone).date()).days
    if days <= 0:
        return f"today at {local:%H:%M}"
    if days == 1:
        return f"tomorrow at {local:%H:%M}"
    return f"in {days} days ({local:%a %H:%M})"


@bp.app_template_global()
def came_out(moment: datetime | None) -> str:
    """When the newest release came out, in the person's zone: "today", "yesterday",
    "3 days ago"."""
    if moment is None:
        return ""
    zone = preferences.zone(preferences.current().timezone)
    days = (datetime.now(zone).date() - moment.astimezone(zone).date()).days
    if days <= 0:
        return "out today"
    return "out yesterday" if days == 1 else f"out {days} days ago"
