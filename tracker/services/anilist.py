"""The AniList connection: OAuth with a server-side state, the stored token, status."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, url_for
from sqlalchemy import delete, func, select, update

from tracker.clients import AniListClient, ClientError
from tracker.clients.oauth import AniListOAuth
from tracker.extensions import db
from tracker.models import (
    AniListAccount,
    ItemEvent,
    LibraryItem,
    OAuthState,
    SyncOutbox,
    User,
    utcnow,
)
from tracker.services import accounts, crypto, library, outbox
from tracker.services.errors import Invalid, NotFound, ServiceError
from tracker.services.remote import remote

STATE_LIFETIME = timedelta(minutes=10)
OK, NEEDS_REAUTH = "ok", "needs_reauth"
HOW_TO_CONFIGURE = (
    "Create a client at anilist.co/settings/developer with the redirect URL {redirect}, "
    "then set TRACKER_ANILIST_CLIENT_ID and TRACKER_ANILIST_CLIENT_SECRET and restart."
)


class NotConfigured(ServiceError):
    status = 409
    code = "anilist_not_configured"


class ConnectFailed(ServiceError):
    status = 400
    code = "anilist_connect_failed"


def configured() -> bool:
    cfg = current_app.config
    return bool(cfg.get("ANILIST_CLIENT_ID") and cfg.get("ANILIST_CLIENT_SECRET"))


def redirect_uri() -> str:
    return current_app.config.get("ANILIST_REDIRECT_URI") or url_for(
        "anilist_api.callback", _external=True
    )


def how_to_configure() -> str:
    return HOW_TO_CONFIGURE.format(redirect=redirect_uri())


def _oauth() -> AniListOAuth:
    cfg = current_app.config
    return AniListOAuth(
        authorize_url=cfg["ANILIST_AUTHORIZE_URL"],
        token_url=cfg["ANILIST_TOKEN_URL"],
        client_id=str(cfg["ANILIST_CLIENT_ID"]),
        client_secret=str(cfg["ANILIST_CLIENT_SECRET"]),
        redirect_uri=redirect_uri(),
    )


def connect_url(user_id: int) -> str:
    """Where to send the person to approve Tracker on AniList; the state names them."""
    if not configured():
        raise NotConfigured(f"AniList is not set up on this server. {how_to_configure()}")
    now = utcnow()
    state = secrets.token_urlsafe(32)
    db.session.execute(delete(OAuthState).where(OAuthState.expires_at < now))
    db.session.add(OAuthState(state=state, user_id=user_id, created_at=now,
                              expires_at=now + STATE_LIFETIME))  # fmt: skip
    db.session.commit()
    return _oauth().authorization_url(state)


def finish_connect(state: str | None, code: str | None) -> AniListAccount:
    """Check the state before anything else, then trade the code and store the account."""
    user_id = _consume_state(state)
    if not code:
        raise ConnectFailed("AniList sent no authorization code; try connecting again.")
    try:
        token = _oauth().exchange(code)
        viewer = remote().anilist.with_token(token["access_token"]).viewer()
    except ClientError as error:
        raise ConnectFailed(f"AniList did not complete the connection: {error.message}") from error
    account = db.session.scalar(select(AniListAccount).where(AniListAccount.user_id == user_id))
    if account is None:
        account = AniListAccount(user_id=user_id)
        db.session.add(account)
        # Neither side is the truth: nothing moves until the owner chooses how to merge
        # (sync.settle_first_connect starts at once when there is nothing to choose).
        account.first_sync_pending = True
    elif account.anilist_user_id != viewer["id"]:
        _forget_remote_links(user_id)  # another AniList account: old entry ids mean nothing
        account.first_sync_pending = True
    expires_in = token.get("expires_in")
    account.anilist_user_id = viewer["id"]
    account.name = viewer["name"]
    account.score_format = viewer.get("score_format") or "POINT_100"
    account.access_token_encrypted = crypto.encrypt(token["access_token"])
    account.expires_at = utcnow() + timedelta(seconds=int(expires_in)) if expires_in else None
    account.state = OK
    account.last_error = None
    # Pages show scores as AniList does for this person, until they choose otherwise.
    accounts.adopt_score_format(db.session.get(User, user_id), viewer.get("score_format"))
    # Everything held back while the token was bad goes out now.
    db.session.execute(
        update(SyncOutbox).where(SyncOutbox.user_id == user_id).values(next_attempt_at=utcnow())
    )
    db.session.commit()
    outbox.changes_waiting.set()
    return account


def _consume_state(state: str | None) -> int:
    """The user a state was issued to; refused when unknown, expired or used before."""
    if not state:
        raise ConnectFailed("The AniList answer had no state; start again from Settings.")
    if "\x00" in state:  # never one of ours, and PostgreSQL cannot compare it
        raise ConnectFailed("This AniList link is unknown or was already used; start again.")
    now = utcnow()
    used = db.session.execute(
        update(OAuthState)
        .where(OAuthState.state == state, OAuthState.used_at.is_(None))
        .values(used_at=now)
        .returning(OAuthState.user_id, OAuthState.expires_at)
    ).first()
    db.session.commit()  # spent even if what follows fails: a state works once
    if used is None:
        raise ConnectFailed("This AniList link is unknown or was already used; start again.")
    if used.expires_at < now:
        raise ConnectFailed("This AniList link has expired; start again from Settings.")
    return used.user_id


def account_for(user_id: int) -> AniListAccount | None:
    return db.session.scalar(select(AniListAccount).where(AniListAccount.user_id == user_id))


def client_for(account: AniListAccount) -> AniListClient:
    token = crypto.decrypt(account.access_token_encrypted)
    if token is None:
        raise Invalid("The stored AniList token cannot be read (the encryption key changed).")
    return remote().anilist.with_token(token)


def mark_needs_reauth(account: AniListAccount, message: str) -> None:
    account.state = NEEDS_REAUTH
    account.last_error = message


def status(user_id: int) -> dict[str, Any]:
    """The connection and its numbers, computed once for the settings page and the API,
    so the badge, the counts and the last error can never disagree.

    ``health`` sums them up: ``ok``; ``waiting`` (changes wait behind an error, e.g.
    AniList unreachable); ``error`` (the last sync failed, nothing waits);
    ``needs_reauth``; ``disconnected``."""
    account = account_for(user_id)
    waiting = outbox.waiting(user_id)
    numbers = {
        "pending": waiting.pending,
        "failed": waiting.failed,
        "conflicts": _unresolved_conflicts(user_id),
    }
    if account is None:
        return {"configured": configured(), "connected": False, "state": "disconnected",
                "health": "disconnected", "name": None, "anilist_user_id": None,
                "last_sync_at": None, "last_error": None, "first_sync_pending": False,
                **numbers}  # fmt: skip
    last_error = account.last_error or waiting.last_error
    if account.state == NEEDS_REAUTH:
        health = NEEDS_REAUTH
    elif last_error or waiting.failed:
        health = "waiting" if waiting.pending else "error"
    else:
        health = OK
    return {
        "configured": configured(),
        "connected": True,
        "state": account.state,
        "health": health,
        "name": account.name,
        "anilist_user_id": account.anilist_user_id,
        "last_sync_at": account.last_sync_at,
        "last_error": last_error,
        "first_sync_pending": account.first_sync_pending,
        **numbers,
    }


def _unresolved_conflicts(user_id: int) -> int:
    conflicts = library.unresolved_conflicts(user_id, ItemEvent.id).subquery()
    return db.session.scalar(select(func.count()).select_from(conflicts)) or 0


def disconnect(user_id: int) -> None:
    account = account_for(user_id)
    if account is None:
        raise NotFound("No AniList account is connected.")
    db.session.delete(account)
    _forget_remote_links(user_id)
    db.session.commit()


def _forget_remote_links(user_id: int) -> None:
    db.session.execute(delete(SyncOutbox).where(SyncOutbox.user_id == user_id))
    db.session.execute(
        update(LibraryItem)
        .where(LibraryItem.user_id == user_id)
        .values(anilist_entry_id=None, remote_updated_at=None, synced_at=None)
    )
