"""Entry point for gunicorn (``gunicorn wsgi:app``) and ``flask --app wsgi``: the app,
and this process's logging as TRACKER_LOG_FORMAT / TRACKER_LOG_LEVEL say."""

from tracker import create_app
from tracker.logs import configure_logging

app = create_app()
configure_logging(app)
