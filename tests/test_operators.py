"""Operators' commands: ``flask tracker create-user | list-users | disable-user |
enable-user | make-admin | reset-password``."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import ApiClient, api_client_for
from tracker.extensions import db
from tracker.models import PasswordReset, User

LINK = re.compile(r"(https?://\S+/reset/(\S+))")


def tracker(runner, *args: str, input: str | None = None):
    return runner.invoke(args=["tracker", *args], input=input)


def user(app, username: str) -> User:
    with app.app_context():
        found = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge_all()
        return found


def test_create_user_asks_for_the_password_and_can_make_an_admin(app, runner):
    result = tracker(runner, "create-user", "bob", "--admin", input="password123\npassword123\n")
    assert result.exit_code == 0, result.output
    assert "Created admin bob" in result.output
    assert user(app, "bob").is_admin
    plain = tracker(runner, "create-user", "carol", input="password123\npassword123\n")
    assert plain.exit_code == 0 and "Created user carol" in plain.output
    assert not user(app, "carol").is_admin


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("x", "password123", "username"), ("bob", "short", "password")],
)
def test_create_user_refuses_what_registration_refuses(app, runner, username, password, message):
    result = tracker(runner, "create-user", username, input=f"{password}\n{password}\n")
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_create_user_refuses_a_taken_name_without_a_traceback(app, runner, api):
    result = tracker(runner, "create-user", "ALICE", input="password123\npassword123\n")
    assert result.exit_code == 1
    assert "That username is taken." in result.output
    assert "Traceback" not in result.output


def test_list_users_shows_each_account_with_its_items_and_last_sight(app, runner, api, other_api):
    api.add(title="Frieren")
    api.add(title="Mushishi")
    tracker(runner, "disable-user", "mallory")
    result = tracker(runner, "list-users")
    assert result.exit_code == 0
    header, alice, mallory = result.output.splitlines()
    assert header.split() == ["id", "username", "admin", "disabled", "created", "items", "last",
                              "seen"]  # fmt: skip
    assert alice.split()[1:4] == ["alice", "no", "no"]
    assert alice.split()[-3] == "2"  # items, before the last-seen date and time
    assert mallory.split()[1] == "mallory"
    assert mallory.split()[3] != "no"  # the date it was disabled


def test_list_users_takes_one_statement_however_many_users(app, runner):
    from sqlalchemy import event

    for name in ("ann", "ben", "cat", "dan"):
        api_client_for(app, name).add(title="Frieren")
    statements = []
    with app.app_context():
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            result = tracker(runner, "list-users")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert result.exit_code == 0 and len(result.output.splitlines()) == 5
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_disable_user_ends_every_session_and_token_at_once(app, runner, api: ApiClient):
    assert api.get("/api/auth/me").status_code == 200
    result = tracker(runner, "disable-user", "alice")
    assert result.exit_code == 0 and "Disabled alice." in result.output
    assert api.get("/api/auth/me").status_code == 401
    again = tracker(runner, "disable-user", "alice")
    assert again.exit_code == 0 and "alice was disabled." in again.output


def test_enable_user_lets_the_account_log_in_again(app, runner, api: ApiClient):
    tracker(runner, "disable-user", "alice")
    refused = api.client.post(
        "/api/auth/token", data={"username": "alice", "password": "password123"}
    )
    assert refused.status_code == 403
    result = tracker(runner, "enable-user", "alice")
    assert result.exit_code == 0 and "Enabled alice." in result.output
    token = api.client.post(
        "/api/auth/token", data={"username": "alice", "password": "password123"}
    )
    assert token.status_code == 200
    assert user(app, "alice").disabled_at is None


def test_make_admin_grants_and_revokes(app, runner, api):
    assert tracker(runner, "make-admin", "alice").exit_code == 0
    assert user(app, "alice").is_admin
    result = tracker(runner, "make-admin", "alice", "--revoke")
    assert result.exit_code == 0 and "alice is no longer an admin." in result.output
    assert not user(app, "alice").is_admin


def test_reset_password_prints_a_link_at_the_public_address(app_factory):
    app = app_factory(PUBLIC_URL="https://tracker.example.com/")
    api_client_for(app, "alice")
    result = tracker(app.test_cli_runner(), "reset-password", "alice")
    assert result.exit_code == 0, result.output
    link, token = LINK.search(result.output).groups()
    assert link.startswith("https://tracker.example.com/reset/")
    assert "30 minutes" in result.output
    with app.app_context():
        stored = db.session.scalar(select(PasswordReset.token_hash))
    assert token not in stored  # kept only as its hash
    assert app.test_client().get(f"/reset/{token}").status_code == 200


def test_reset_password_defaults_to_the_make_run_address(app, runner, api):
    result = tracker(runner, "reset-password", "alice")
    assert LINK.search(result.output)[1].startswith("http://127.0.0.1:5000/reset/")


@pytest.mark.parametrize(
    "command",
    [["disable-user"], ["enable-user"], ["make-admin"], ["make-admin", "--revoke"],
     ["reset-password"], ["sync"]],
)  # fmt: skip
@pytest.mark.parametrize("name", ["nobody", "nul\x00name"])
def test_an_unknown_user_is_a_clear_error(app, runner, command, name):
    result = tracker(runner, *command[:1], name, *command[1:])
    assert result.exit_code == 1
    assert "Error: No user" in result.output
    assert "Traceback" not in result.output
