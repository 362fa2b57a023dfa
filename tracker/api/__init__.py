"""The JSON API: flask-smorest blueprints whose schemas validate input and write the
OpenAPI document."""

from __future__ import annotations

from flask import Flask

from tracker.api import auth, health, library, sources
from tracker.extensions import api, csrf
from tracker.schemas import ApiErrorSchema


def register_api(app: Flask) -> None:
    api.ERROR_SCHEMA = ApiErrorSchema  # document our error shape, not smorest's
    api.init_app(app)
    for module in (auth, library, sources, health):
        api.register_blueprint(module.bp)
        # Bearer-token calls carry no cookie to forge; session calls are checked in access.
        csrf.exempt(module.bp)
