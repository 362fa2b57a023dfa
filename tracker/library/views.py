"""The library pages: the full page on a normal load, fragments for htmx."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user, login_required
from marshmallow import ValidationError

from tracker.htmx import render
from tracker.schemas import ItemQuerySchema, first_messages
from tracker.services import library

bp = Blueprint("library", __name__)


@bp.route("/")
@login_required
def index():
    try:
        query = ItemQuerySchema().load(_filled(request.args))
    except ValidationError as exc:
        query = ItemQuerySchema().load({})
        errors = first_messages(exc)
    else:
        errors = {}
    page = library.list_items(current_user.id, **query)
    return render(
        "library/index.html",
        "library/partials/_rows.html",
        page=page,
        query=query,
        errors=errors,
        summary=library.summary(current_user.id),
    )


def _filled(args) -> dict[str, str]:
    """Empty form fields mean "any", not an invalid value."""
    return {key: value for key, value in args.items() if value != ""}
