"""flask-smorest's Blueprint, with a body parser that answers 400 to any JSON it cannot read."""

from __future__ import annotations

import json

import flask_smorest
from flask import Request
from webargs.flaskparser import FlaskParser, abort


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


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()
