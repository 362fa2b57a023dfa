"""The API's blueprint: how routes document what they answer, so the OpenAPI document
tells the truth, and a body parser that answers 400 to any JSON it cannot read.

There is no catch-all ``default`` response: each route lists the error statuses it can
give, all in the JSON error shape (``ApiErrorSchema``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from flask import Request, request
from flask_smorest import Blueprint
from marshmallow import Schema
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import UnsupportedMediaType

from tracker.schemas import ApiErrorSchema
from tracker.services.errors import invalid

# What every route that reads the caller (bearer token or session) can answer.
AUTHENTICATED = (401, 503)
# What a cookie-session mutation can answer on top: 400 for a missing or stale CSRF
# token, 413 when the body is over MAX_CONTENT_LENGTH.
MUTATION = (*AUTHENTICATED, 400, 413)
# What a route reading a JSON body can answer on top: 400 for JSON that does not parse,
# 415 for a body that is not JSON, 422 for values the schema refuses.
JSON_BODY = (400, 413, 415, 422)

DESCRIPTIONS = {
    400: "The body is not valid JSON, or the session's CSRF token is missing or stale",
    401: "No valid token or session",
    403: "Refused (the JSON error's `code` says why)",
    404: "Not found, or not yours",
    409: "Conflicts with what is stored",
    413: "The body is larger than the server accepts",
    415: "The body is not JSON (send Content-Type: application/json)",
    422: "A value is refused; `fields` says which",
    429: "Too many attempts; wait and try again",
    503: "The database does not answer",
}


class JsonBodyParser(FlaskParser):
    """webargs turns malformed JSON into a 400; this does the same for JSON that is well
    formed but more than Python's parser will take (it would otherwise be a 500)."""

    def _raw_load_json(self, req: Request):
        try:
            return super()._raw_load_json(req)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise  # webargs answers these itself
        except RecursionError:
            abort(400, messages={"json": ["The JSON is nested too deeply."]})
        except ValueError:  # an integer of thousands of digits
            abort(400, messages={"json": ["The JSON holds a number too long to read."]})


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()

    def errors(self, *statuses: int, **descriptions: str) -> Callable:
        """Document the error answers a route can give (wording overridable: ``e404="…"``)."""

        def decorate(view: Callable) -> Callable:
            for status in sorted(set(statuses), reverse=True):
                description = descriptions.get(f"e{status}", DESCRIPTIONS[status])
                view = self.alt_response(status, schema=ApiErrorSchema, description=description)(
                    view
                )
            return view

        return decorate

    def json_body(self, schema: type[Schema] | Schema, *, required: bool = True) -> Callable:
        """``arguments`` for a JSON body that also holds the server to the document: a body
        that is not JSON is refused (415) rather than read as none, and a required body
        must be there (422)."""

        def decorate(view: Callable) -> Callable:
            parsed = self.arguments(schema, required=required)(view)

            @wraps(parsed)
            def checked(*args, **kwargs):
                _check_json_body(required=required)
                return parsed(*args, **kwargs)

            return self.errors(*JSON_BODY)(checked)

        return decorate


def _check_json_body(*, required: bool) -> None:
    if not request.get_data(cache=True):
        if required:
            raise invalid("_schema", "Send a JSON object as the request body.")
        return
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON, with Content-Type: application/json.")
