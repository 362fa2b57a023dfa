"""What ``make load`` serves (``gunicorn … 'bench.load_app:create()'``): the production
app, as ``wsgi.py`` makes it, plus one bare route.

``GET /_load/bare`` answers "ok" through the same gunicorn worker, Flask and the app's
own hooks (request limits, security headers, compression), but touches no session,
database or template: the floor every other figure of the load run is divided by.
``/api/health`` is not that floor: it asks the database and reads the package version
from disk on every call. Only this module adds the route; the app people run never has it.
"""

from __future__ import annotations

import os
import sys

from flask import Flask

BARE_PATH = "/_load/bare"
READY = "load app ready in process"  # bench/load.py waits for one line per web worker


def create() -> Flask:
    from tracker import create_app

    app = create_app()
    app.add_url_rule(BARE_PATH, "load_bare", lambda: "ok")
    print(f"{READY} {os.getpid()}", file=sys.stderr, flush=True)
    return app
