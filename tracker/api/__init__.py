"""The JSON API: flask-smorest blueprints whose schemas validate input and write the
OpenAPI document."""

from __future__ import annotations

from flask import Flask
from flask_smorest.spec.plugins import integerconverter2paramschema

from tracker.api import (
    anilist,
    auth,
    calendar,
    exports,
    health,
    imports,
    library,
    sources,
    stats,
)
from tracker.extensions import api, csrf
from tracker.routing import IdConverter
from tracker.schemas import ApiErrorSchema

# Ids document as bounded integers; registered once, the Api applies it to every app.
api.register_converter(IdConverter, integerconverter2paramschema)


def register_api(app: Flask) -> None:
    api.ERROR_SCHEMA = ApiErrorSchema  # document our error shape, not smorest's
    # No catch-all `default` answer: every route lists the statuses it can give (api/docs.py).
    api.DEFAULT_ERROR_RESPONSE_NAME = None
    api.init_app(app)
    for blueprint in (
        auth.bp,
        library.bp,
        stats.bp,
        exports.bp,
        imports.bp,
        sources.bp,
        anilist.bp,
        anilist.jobs_bp,
        health.bp,
        calendar.bp,
    ):
        api.register_blueprint(blueprint)
        # Bearer-token calls carry no cookie to forge; session calls are checked in access.
        csrf.exempt(blueprint)
