"""``python -m tracker.preflight``: can this environment serve in production?

``make serve`` runs it first, so missing or weak secrets stop the start with one
clear sentence (and exit status 1) rather than a traceback from inside gunicorn's
workers. It applies the same rules as the app (``tracker.config``), to an empty
Flask app: nothing is imported from the app, nothing touches the database.
"""

from __future__ import annotations

import sys

from flask import Flask

from tracker.config import ConfigError, is_production, load_config


def problems() -> list[str]:
    app = Flask("tracker.preflight")
    try:
        load_config(app)
    except ConfigError as error:
        return [str(error)]
    if not is_production(app):
        return [f"TRACKER_ENV is {app.config['ENV']!r}: `make serve` serves production only."]
    return []


def main() -> int:
    found = problems()
    for problem in found:
        print(f"Cannot serve: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
