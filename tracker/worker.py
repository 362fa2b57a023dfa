"""The worker: runs jobs, pushes the outbox and queues periodic pulls.

``flask tracker worker`` runs it as its own process (production); the development
server, ``flask tracker dev`` with TRACKER_INPROCESS_WORKER, runs the same loop in a
daemon thread of its own. Creating the app never starts it.
"""

from __future__ import annotations

import threading

from flask import Flask

from tracker.extensions import db
from tracker.services import outbox, sync


def run(app: Flask, stop: threading.Event, *, once: bool = False) -> None:
    poll = float(app.config["WORKER_POLL_SECONDS"])
    while not stop.is_set():
        with app.app_context():
            try:
                busy = sync.work_once()
            except Exception:
                app.logger.exception("Worker round failed; trying again")
                busy = False
            finally:
                db.session.remove()
        if once:
            return
        if not busy:
            # Sleep until the next poll, or until a change in this process wakes us.
            outbox.changes_waiting.wait(poll)
            outbox.changes_waiting.clear()


def start_in_process(app: Flask) -> threading.Thread:
    """The worker in a daemon thread of this process, kept in ``app.extensions``."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop), name="tracker-worker", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    app.extensions["tracker.worker"] = thread
    thread.start()
    return thread


def stop_in_process(app: Flask, timeout: float = 10.0) -> None:
    """Stop the thread ``start_in_process`` started for ``app`` (if any) and wait for it."""
    thread = app.extensions.pop("tracker.worker", None)
    if thread is not None:
        thread.stop.set()
        outbox.changes_waiting.set()  # wake it from its poll at once
        thread.join(timeout)
