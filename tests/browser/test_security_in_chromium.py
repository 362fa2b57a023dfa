"""Settings → Password and API tokens in a real browser: htmx swaps, toasts, the new
token shown once, the confirmation before revoking, and nothing the CSP refuses."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, USERNAME, log_in
from tracker.services import accounts
from tracker.services.errors import Unauthorized

pytestmark = pytest.mark.browser

NEW_PASSWORD = "correct horse battery staple"


def toast(page, message: str):
    return page.locator("#toasts").get_by_text(message)


def test_changing_the_password_in_chromium(app, page, user_id):
    log_in(page)
    page.goto("/settings#password")
    page.get_by_label("Current password").fill("not it at all")
    page.locator("#new_password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#current-password-error")).to_have_text(
        "That is not your current password."
    )

    page.get_by_label("Current password").fill(PASSWORD)
    page.locator("#new_password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(toast(page, "Password changed")).to_be_visible()
    expect(page.locator("#current-password-error")).to_have_count(0)
    expect(page.get_by_label("Current password")).to_have_value("")
    with app.app_context():
        assert accounts.authenticate(USERNAME, NEW_PASSWORD).username == USERNAME
        with pytest.raises(Unauthorized):
            accounts.authenticate(USERNAME, PASSWORD)
    page.reload()  # this browser's session stayed
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(page.locator("#sessions-body")).to_contain_text("This session")
    assert [text for text in page.console_errors if "Content Security Policy" in text] == []


def test_creating_a_token_shows_it_once_then_lists_its_prefix(app, page, user_id):
    log_in(page)
    page.goto("/settings#api-tokens")
    expect(page.get_by_text("No API tokens yet.")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("backup script")
    page.get_by_label("Expires").select_option("never")
    page.get_by_role("button", name="Create token").click()

    shown = page.locator("#new-token-value")
    expect(shown).to_have_value(re.compile(r"^trk_[A-Za-z0-9_-]{43}$"))
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    token = shown.input_value()
    assert token.startswith("trk_") and len(token) == 47
    expect(page.get_by_role("button", name="Copy")).to_be_visible()  # scripts run: shown
    expect(toast(page, "API token created")).to_be_visible()
    rows = page.locator("#api-tokens tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("backup script")
    expect(rows.first).to_contain_text(token[:12] + "…")

    page.reload()  # shown once: the list keeps only the prefix
    expect(page.locator("#new-token-value")).to_have_count(0)
    assert token not in page.content()
    expect(page.locator("#api-tokens tbody tr").first).to_contain_text(token[:12] + "…")

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Revoke backup script").click()
    expect(page.get_by_text("No API tokens yet.")).to_be_visible()
    assert asked and "backup script" in asked[0]
    assert [text for text in page.console_errors if text.startswith("pageerror")] == []
