"""Browser accounts: register, log in, log out (cookie session + CSRF)."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from marshmallow import ValidationError

from tracker.extensions import limiter, login_manager
from tracker.htmx import current_page, is_htmx, redirect_client
from tracker.models import User
from tracker.routing import local_path
from tracker.schemas import RegisterSchema, first_messages
from tracker.services import accounts, resets, sessions
from tracker.services.errors import Invalid, ServiceError

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
        return redirect(_safe_next(url_for("library.home")))
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
            return redirect(_safe_next(url_for("library.home")))
    page = render_template("auth/login.html", error=error, next=_safe_next(""))
    return page, status, headers


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20/hour", methods=["POST"])
def register():
    if not current_app.config["REGISTRATION_OPEN"]:
        return _registration_closed()
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
            return redirect(url_for("library.home"))
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


@bp.app_context_processor
def _registration_context() -> dict:
    return {"registration_open": current_app.config["REGISTRATION_OPEN"]}


def _registration_closed():
    """The page says so, without the form; a forged POST is refused the same way (403)."""
    closed = accounts.RegistrationClosed(accounts.REGISTRATION_CLOSED)
    return render_template("auth/register_closed.html", message=closed.message), closed.status


def reset_link(token: str) -> str:
    """The whole URL of a reset link: this request's host when there is a request, the
    configured public address (TRACKER_PUBLIC_URL) from the command line."""
    if has_request_context():
        return url_for("auth.reset_password", token=token, _external=True)
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for("auth.reset_password", token=token, _external=True)


@bp.route("/reset/<path:token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The one-time link from ``flask tracker reset-password`` (or the users page).

    Any path is taken, so a mangled link gets this page's message rather than a bare 404;
    a dead or unknown link says to ask for a new one and changes nothing."""
    user = resets.user_for(token)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        try:
            RegisterSchema(only=("password",)).load({"password": password})
            if password != request.form.get("confirm", ""):
                raise ValidationError({"confirm": ["The passwords differ."]})
            resets.reset_password(token, password)
        except ValidationError as exc:
            errors = first_messages(exc)
        except Invalid as exc:  # a link used meanwhile in another tab goes to the error page
            errors = exc.fields
        else:
            logout_user()
            flash("Your password is changed and every session ended; log in with it.", "success")
            return redirect(url_for("auth.login"), 303)
    status = 422 if errors else 200
    return render_template("auth/reset.html", user=user, errors=errors), status
