from __future__ import annotations

from flask import g, request
from flask_login import logout_user

from tracker.api.access import (
    current_api_token_id,
    current_session_id,
    issue_token,
    login_required,
)
from tracker.api.docs import AUTHENTICATED, MUTATION, ApiBlueprint
from tracker.extensions import limiter
from tracker.schemas import (
    ApiTokenSchema,
    MeSchema,
    NewApiTokenSchema,
    PasswordChangedSchema,
    PasswordChangeSchema,
    PasswordConfirmationSchema,
    ProfileSchema,
    RegisterSchema,
    TokenCreateSchema,
    TokenRequestSchema,
    TokenSchema,
    UserSchema,
)
from tracker.services import accounts, sessions, tokens

bp = ApiBlueprint("auth_api", __name__, url_prefix="/api/auth", description="Accounts and tokens")


@bp.route("/register", methods=["POST"])
@limiter.limit("20/hour", methods=["POST"])
@bp.json_body(RegisterSchema)
@bp.response(201, UserSchema)
@bp.errors(403, 409, 429, 503, e403="Registration is closed on this server (`registration_closed`)",
           e409="The username is taken")  # fmt: skip
@bp.doc(security=[])
def register(body):
    """Create an account (unless the operator closed registration)."""
    accounts.check_registration_open()
    return accounts.register(body["username"], body["password"])


@bp.route("/token", methods=["POST"])
@bp.arguments(TokenRequestSchema, location="form")
@bp.response(200, TokenSchema)
@bp.errors(
    401,
    403,
    413,
    429,
    503,
    e401="Wrong username or password",
    e403="The account is disabled (`account_disabled`)",
    e429="Too many failed sign-ins for this account or address (see Retry-After)",
)
@bp.doc(security=[])
def token(form):
    """Exchange a username and password (OAuth2 password form) for a bearer token."""
    user = accounts.sign_in(form["username"], form["password"], request.remote_addr)
    return {"access_token": issue_token(user), "token_type": "bearer"}


@bp.route("/me")
@bp.response(200, MeSchema)
@bp.errors(*AUTHENTICATED)
@login_required
def me():
    """The account the token or session belongs to, with its preferences."""
    return accounts.profile(g.user)


@bp.route("/me", methods=["PATCH"])
@bp.json_body(ProfileSchema)
@bp.response(200, MeSchema)
@bp.errors(*MUTATION)
@login_required
def update_me(body):
    """Change any of the preferences; a refused value changes nothing (422, `fields`)."""
    return accounts.profile(accounts.update_profile(g.user.id, body).user)


@bp.route("/logout", methods=["POST"])
@bp.response(204)
@bp.errors(*MUTATION)
@login_required
def logout():
    """End the session or token this call came with; it is refused from then on."""
    if token_id := current_api_token_id():
        tokens.revoke(g.user.id, token_id)
    else:
        sessions.end_quietly(g.user.id, current_session_id())
    logout_user()


@bp.route("/logout-all", methods=["POST"])
@bp.response(204)
@bp.errors(*MUTATION)
@login_required
def logout_all():
    """End every browser session and JWT of the account, this one included. Personal API
    tokens are not sessions: they stay until revoked (DELETE /api/auth/tokens/{id})."""
    sessions.end_all(g.user.id)
    logout_user()


@bp.route("/me", methods=["DELETE"])
@bp.json_body(PasswordConfirmationSchema)
@bp.response(204)
@bp.errors(*MUTATION, 403, e403="Wrong password (`wrong_password`); nothing was deleted")
@login_required
def delete_me(body):
    """Delete the account with its library, history, sessions, tokens and AniList link.
    AniList is not told: the list there stays as it is."""
    accounts.delete_account(g.user, body["password"])
    logout_user()


@bp.route("/password", methods=["POST"])
@limiter.limit("10/minute", methods=["POST"])
@bp.json_body(PasswordChangeSchema)
@bp.response(200, PasswordChangedSchema)
@bp.errors(*MUTATION, 422, 429, e422="The current password is wrong, or the new one is refused")
@login_required
def change_password(body):
    """Change the password. Every other browser session and JWT ends (this call's stays);
    personal API tokens keep working."""
    ended = accounts.change_password(
        g.user, body["current_password"], body["new_password"], current_session_id()
    )
    return {"message": accounts.password_changed_message(ended), "ended_sessions": ended}


@bp.route("/tokens")
@bp.response(200, ApiTokenSchema(many=True))
@bp.errors(*AUTHENTICATED)
@login_required
def list_tokens():
    """Your personal API tokens not revoked, newest first (the tokens themselves are
    never shown again)."""
    return tokens.listed(g.user.id)


@bp.route("/tokens", methods=["POST"])
@bp.json_body(TokenCreateSchema)
@bp.response(201, NewApiTokenSchema)
@bp.errors(*MUTATION)
@login_required
def create_token(body):
    """Make a personal API token for a script. It is in this answer only: the server
    keeps a hash. Send it as `Authorization: Bearer trk_…` wherever a JWT goes. A
    personal token may make more tokens (a script can rotate its own)."""
    token, plaintext = tokens.create(g.user.id, body["name"], body["expires_at"])
    return {**{name: getattr(token, name) for name in ApiTokenSchema().fields}, "token": plaintext}


@bp.route("/tokens/<id:token_id>", methods=["DELETE"])
@bp.response(204)
@bp.errors(*MUTATION, 404, e404="No such token of yours (or already revoked)")
@login_required
def revoke_token(token_id: int):
    """Revoke a personal API token: it is refused from then on."""
    tokens.revoke(g.user.id, token_id)
