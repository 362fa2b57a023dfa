"""Browser accounts: register, log in, log out (cookie session + CSRF)."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from marshmallow import ValidationError

from tracker.extensions import limiter, login_manager
from tracker.htmx import current_page, is_htmx, redirect_client
from tracker.models import User
from tracker.routing import local_path
from tracker.schemas import RegisterSchema, first_messages
from tracker.services import accounts, sessions
from tracker.services.errors import ServiceError

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """The cookie names a user and their session; an ended session lets nobody in."""
    return sessions.load_user(sessions.Identity.parse(identity))


def _log_in(user: User, remember: bool = False) -> None:
    sessions.start(user, sessions.BROWSER)
    login_user(user, remember=remember)


@login_manager.unauthorized_handler
def unauthorized():
    target = url_for("auth.login", next=current_page())
    if is_htmx():
        return redirect_client(make_response("", 401), target)
    return redirect(target)


def _safe_next(default: str) -> str:
    """Where to go after logging in: only ever a path on this site."""
    return local_path(request.args.get("next") or request.form.get("next")) or default


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(url_for("library.index")))
    error, status, headers = None, 200, {}
    if request.method == "POST":
        try:
            user = accounts.sign_in(
                request.form.get("username", ""),
                request.form.get("password", ""),
                request.remote_addr,
            )
        except ServiceError as exc:
            error, status, headers = exc.message, exc.status, exc.headers
        else:
            _log_in(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(url_for("library.index")))
    page = render_template("auth/login.html", error=error, next=_safe_next(""))
    return page, status, headers


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20/hour", methods=["POST"])
def register():
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("username", "password")}
        try:
            data = RegisterSchema().load(form)
            if data["password"] != request.form.get("confirm", ""):
                raise ValidationError({"confirm": ["The passwords differ."]})
            user = accounts.register(data["username"], data["password"])
        except ValidationError as exc:
            errors = first_messages(exc)
        except ServiceError as exc:
            errors = exc.fields
        else:
            _log_in(user)
            flash(f"Welcome, {user.username}! Add your first title below.", "success")
            return redirect(url_for("library.index"))
    status = 422 if errors else 200
    return render_template("auth/register.html", errors=errors, form=request.form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET asks; POST (with its CSRF token) ends this session on the server too, so a
    copy of the cookie is worth nothing afterwards."""
    if request.method == "GET":
        return render_template("auth/logout.html")
    everywhere = bool(request.form.get("everywhere"))
    if current_user.is_authenticated:
        if everywhere:
            sessions.end_all(current_user.id)
        else:
            sessions.end_quietly(current_user.id, current_user.session_id)
    logout_user()
    flash("You are logged out everywhere." if everywhere else "You are logged out.", "success")
    return redirect(url_for("auth.login"))
