"""What ``make load`` and ``bench_served`` serve (``gunicorn … 'bench.load_app:create()'``):
the production app, as ``wsgi.py`` makes it, plus floors to divide by.

- ``GET /_load/bare`` answers "ok" through the same gunicorn worker, Flask and the app's
  own hooks (request limits, security headers, compression), but touches no session,
  database or template: the floor every other figure of the load run is divided by.
  ``/api/health`` is not that floor: it asks the database and reads the package version
  from disk on every call.
- ``POST /_load/signed-in`` (a browser: cookie session and CSRF) and
  ``POST /_load/api-signed-in`` (a bearer JWT) let the caller in, user lookup and all,
  and do nothing else: what any click costs in this stack before it does anything.
- ``POST /_load/durable/<id>`` runs one ``UPDATE … RETURNING`` and commit on the item's
  progress, through the app's engine: the least a durable +1 can cost.

Only this module adds these routes; the app people run never has them. ``hello()`` is
a bare Flask app answering ``BARE_PATH``, for the server's own floor.
"""

from __future__ import annotations

import os
import sys

from flask import Flask
from flask_login import login_required
from sqlalchemy import Engine, text

BARE_PATH = "/_load/bare"
SIGNED_IN_PATH = "/_load/signed-in"
API_SIGNED_IN_PATH = "/_load/api-signed-in"
DURABLE_PATH = "/_load/durable/{item_id}"
READY = "load app ready in process"  # bench/load.py waits for one line per web worker


def durable_write(engine: Engine, item_id: int) -> str:
    """One ``UPDATE … RETURNING`` and commit of an item's progress: the least a durable
    +1 can cost (the floor of ``bench_increment`` and ``bench_served``)."""
    with engine.begin() as connection:
        progress = connection.execute(
            text("UPDATE library_items SET progress = progress + 1 WHERE id = :id "
                 "RETURNING progress"), {"id": item_id},
        ).scalar_one()  # fmt: skip
    return str(progress)


def create() -> Flask:
    from tracker import create_app
    from tracker.api import access
    from tracker.extensions import csrf, db

    app = create_app()
    app.add_url_rule(BARE_PATH, "load_bare", lambda: "ok")

    # Named functions: CSRF exemptions go by module and name, and all lambdas share one.
    def signed_in() -> str:
        return ""

    def api_signed_in() -> dict:
        return {}

    def durable(item_id: int) -> str:
        return durable_write(db.engine, item_id)

    app.add_url_rule(SIGNED_IN_PATH, "load_signed_in", login_required(signed_in),
                     methods=["POST"])  # fmt: skip
    api_view = csrf.exempt(access.login_required(api_signed_in))
    app.add_url_rule(API_SIGNED_IN_PATH, "load_api_signed_in", api_view, methods=["POST"])
    app.add_url_rule(DURABLE_PATH.replace("{item_id}", "<int:item_id>"), "load_durable",
                     csrf.exempt(durable), methods=["POST"])  # fmt: skip
    print(f"{READY} {os.getpid()}", file=sys.stderr, flush=True)
    return app


def hello() -> Flask:
    """A bare Flask app, served the same way: what the server itself costs. It answers
    ``/api/health`` too, as ``bench/load.py`` waits for that."""
    app = Flask("hello")
    app.add_url_rule(BARE_PATH, "hello", lambda: "Hello, World!")
    app.add_url_rule("/api/health", "health", lambda: "ok")
    print(f"{READY} {os.getpid()}", file=sys.stderr, flush=True)
    return app
