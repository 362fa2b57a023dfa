"""The users page, for admins: every account, disable or enable it, make a reset link.

Anyone else, logged in or not, gets the 404 any unknown path gets: the page does not
say it exists. Each action answers its row to htmx (with a toast) and the whole page
otherwise, so it works without JavaScript too.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from tracker.auth.views import reset_link
from tracker.extensions import csrf
from tracker.htmx import is_htmx, render, toast
from tracker.services import resets, users
from tracker.services.errors import Conflict

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE = "admin/users.html"
ROW = "admin/partials/_user_row.html"


@bp.before_app_request
def _admins_only() -> None:
    """404 before anything else under /admin/: the CSRF check's 400 and a wrong method's
    405 would give the page away (a 405 matches no blueprint, hence an app-wide hook)."""
    if not f"{request.path}/".startswith(f"{bp.url_prefix}/"):
        return
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(404)
    if request.method == "POST":
        csrf.protect()


csrf.exempt(bp)  # checked by _admins_only, after the 404


@bp.get("/users")
def users_page():
    return render(PAGE, PAGE, rows=users.list_users())


@bp.post("/users/<id:user_id>/disable")
def disable(user_id: int):
    user = users.get(user_id)
    try:
        changed = users.set_disabled(user, True, by=current_user)
    except Conflict as refused:
        return _answer(user_id, refused.message, "error", refused.status)
    message = f"{user.username} is disabled and logged out everywhere." if changed else (
        f"{user.username} was already disabled.")  # fmt: skip
    return _answer(user_id, message)


@bp.post("/users/<id:user_id>/enable")
def enable(user_id: int):
    user = users.get(user_id)
    changed = users.set_disabled(user, False)
    message = f"{user.username} can log in again." if changed else (
        f"{user.username} was not disabled.")  # fmt: skip
    return _answer(user_id, message)


@bp.post("/users/<id:user_id>/reset-link")
def make_reset_link(user_id: int):
    """The link is shown once, in the answer; never flashed (the cookie would keep it)."""
    user = users.get(user_id)
    link = reset_link(resets.create_reset(user.id))
    row = users.row(user_id)
    if is_htmx():
        return toast(render(PAGE, ROW, row=row, link=link), f"Reset link made for {user.username}.")
    return render(PAGE, PAGE, rows=users.list_users(), link_for=user_id, link=link)


def _answer(user_id: int, message: str, level: str = "success", status: int = 200):
    if not is_htmx():
        flash(message, level)
        return redirect(url_for("admin.users_page"), 303)
    return toast(render(PAGE, ROW, status, row=users.row(user_id)), message, level)
