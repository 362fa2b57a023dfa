"""The settings page's last section: deleting the account.

The password is asked again, and the username typed out, so neither a stray click nor
someone at an unlocked screen who does not know the password removes everything.
"""

from __future__ import annotations

from flask import flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required, logout_user

from tracker.htmx import is_htmx, redirect_client
from tracker.services import accounts
from tracker.settings.views import bp, render_section

DELETE = "settings/partials/_delete_account.html"


@bp.post("/account/delete")
@login_required
def delete_account():
    typed = request.form.get("confirm_username", "")
    errors: dict[str, list[str]] = {}
    if typed.casefold() != current_user.username.casefold():
        errors["confirm_username"] = [f"Type {current_user.username} to confirm."]
    else:
        try:
            accounts.delete_account(current_user, request.form.get("password", ""))
        except accounts.WrongPassword as refused:
            errors["password"] = [refused.message]
    if errors:  # 422 so that htmx swaps the form with its messages in
        return render_section(DELETE, 422, delete_errors=errors)
    logout_user()
    flash(
        "Your account and everything in it are deleted; your AniList list is untouched.", "success"
    )
    login = url_for("auth.login")
    if is_htmx():  # the whole page goes; a 303 would only be followed inside the request
        return redirect_client(make_response("", 204), login)
    return redirect(login, 303)
