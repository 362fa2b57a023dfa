"""Deleting an account (password required) removes everything that is only the person's
own, in every table, and nothing of anyone else's; AniList is never called."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import ApiClient, Browser, HtmxClient, api_client_for
from tracker.extensions import db
from tracker.models import (
    AniListAccount,
    ApiToken,
    Job,
    LibraryItem,
    Media,
    OAuthState,
    SyncOutbox,
    User,
    utcnow,
)
from tracker.services import resets


def user_tables():
    return [t for t in db.metadata.sorted_tables if "user_id" in t.c]


def give_everything(app, username: str) -> None:
    """A row of every kind that names the user, besides what the API made."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        item = db.session.scalar(select(LibraryItem).where(LibraryItem.user_id == user.id))
        later = utcnow() + timedelta(minutes=10)
        db.session.add_all([
            SyncOutbox(user_id=user.id, item_id=item.id, op="save"),
            AniListAccount(user_id=user.id, anilist_user_id=user.id, name=username,
                           access_token_encrypted="x"),
            OAuthState(state=f"state-{username}", user_id=user.id, expires_at=later),
            Job(user_id=user.id, kind="anilist_sync"),
            ApiToken(user_id=user.id, name="script", token_hash=f"{username:0<64}"[:64],
                     prefix="trk_"),
        ])  # fmt: skip
        db.session.commit()
        resets.create_reset(user.id)


def rows_of(app, username: str) -> dict[str, int]:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        return {
            t.name: db.session.scalar(
                select(func.count()).select_from(t).where(t.c.user_id == user_id)
            )
            for t in user_tables()
        }


def orphans(app) -> dict[str, int]:
    with app.app_context():
        found = {
            t.name: db.session.scalar(
                select(func.count()).select_from(t).where(t.c.user_id.not_in(select(User.id)))
            )
            for t in user_tables()
        }
        found["sync_outbox items"] = db.session.scalar(
            select(func.count(SyncOutbox.id)).where(
                SyncOutbox.item_id.not_in(select(LibraryItem.id))
            )
        )
        return {name: count for name, count in found.items() if count}


@pytest.fixture
def two_people(app) -> tuple[ApiClient, ApiClient]:
    people = {name: api_client_for(app, name) for name in ("alice", "mallory")}
    for name, person in people.items():
        person.add(title="Frieren", source="anilist", anilist_id=154587)
        person.add(title="Mushishi")
        give_everything(app, name)
    return people["alice"], people["mallory"]


@pytest.fixture
def no_outside_calls(monkeypatch) -> None:
    """Any HTTP request to another server (AniList included) fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"an outside call was made: {args[1:3]}")

    monkeypatch.setattr(requests.Session, "request", refuse)


def test_every_table_with_a_user_id_is_covered_here(app, two_people):
    assert all(rows_of(app, "alice").values()), rows_of(app, "alice")


def test_deleting_through_the_api_removes_every_row_of_the_account(
    app, two_people, no_outside_calls
):
    alice, _ = two_people
    before = rows_of(app, "mallory")
    response = alice.delete("/api/auth/me", json={"password": "password123"})
    assert response.status_code == 204
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.username == "alice")) is None
        assert db.session.scalar(select(func.count(Media.id))) == 1  # the catalogue stays
        left = {
            t.name: db.session.scalar(select(func.count()).select_from(t)) for t in user_tables()
        }
    assert left == before  # only mallory's rows are left, all of them
    assert orphans(app) == {}
    assert alice.get("/api/auth/me").status_code == 401  # the token went with the account


def test_a_wrong_password_deletes_nothing(app, two_people):
    alice, _ = two_people
    before = rows_of(app, "alice")
    response = alice.delete("/api/auth/me", json={"password": "not-my-password"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "wrong_password"
    assert rows_of(app, "alice") == before


@pytest.mark.parametrize(
    "body", [None, {}, {"password": 12}, {"password": "x" * 257}, {"password": None}]
)
def test_a_malformed_body_deletes_nothing(app, api, body):
    response = (
        api.delete("/api/auth/me", json=body) if body is not None else api.delete("/api/auth/me")
    )
    assert response.status_code == 422
    assert api.get("/api/auth/me").status_code == 200


def test_the_api_needs_csrf_with_a_session_cookie(app, logged_in):
    refused = logged_in.client.delete("/api/auth/me", json={"password": "password123"})
    assert refused.status_code == 400
    assert logged_in.client.get("/").status_code == 200


def test_the_settings_page_deletes_the_account_and_logs_out(app, logged_in):
    page = logged_in.client.get("/settings")
    assert 'id="delete-account"' in page.get_data(as_text=True)
    response = logged_in.client.post(
        "/settings/account/delete",
        data={"password": "password123", "confirm_username": "alice",
              "csrf_token": logged_in.csrf_token()},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "Your account and everything in it are deleted" in logged_in.client.get(
        "/login"
    ).get_data(as_text=True)
    assert orphans(app) == {}
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0
    assert Browser(app.test_client()).login().status_code == 401


def test_htmx_deletion_sends_the_whole_page_to_log_in(app, htmx: HtmxClient):
    response = htmx.post(
        "/settings/account/delete", data={"password": "password123", "confirm_username": "ALICE"}
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login"


@pytest.mark.parametrize(
    ("password", "typed", "field"),
    [("wrong-password", "alice", "delete-password-error"),
     ("password123", "mallory", "delete-confirm-error"),
     ("password123", "", "delete-confirm-error")],
)  # fmt: skip
def test_the_settings_form_refuses_and_keeps_everything(app, htmx, password, typed, field):
    response = htmx.post(
        "/settings/account/delete", data={"password": password, "confirm_username": typed}
    )
    assert response.status_code == 422
    assert f'id="{field}"' in response.get_data(as_text=True)
    assert htmx.get("/api/auth/me").status_code == 200
