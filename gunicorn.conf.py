"""gunicorn settings for serving Tracker in production: ``gunicorn -c gunicorn.conf.py wsgi:app``
(``make serve`` does that after ``flask db upgrade``).

Every value can be changed from the environment, so a unit file or a container sets
them without editing this file:

- ``TRACKER_BIND``: where to listen, comma-separated (``127.0.0.1:8000``; ``unix:/run/…``,
  ``fd://3``); else ``127.0.0.1:$PORT`` when PORT is set. Loopback by default: the
  reverse proxy in front is what the world talks to.
- ``WEB_CONCURRENCY``: worker processes (default: 2 x cores + 1, at most MAX_WORKERS).
- ``TRACKER_WEB_THREADS``: threads per worker (default 4).
- ``TRACKER_WEB_TIMEOUT``, ``TRACKER_WEB_GRACEFUL_TIMEOUT``, ``TRACKER_WEB_KEEPALIVE``:
  seconds (30, 30, 5).
- ``TRACKER_LOG_LEVEL``: gunicorn's own log level (``info``).
"""

from __future__ import annotations

import os

# Each worker is a process with its own database pool (up to 15 connections with
# SQLAlchemy's defaults): past a handful, more workers on one host mostly add
# connections and memory, not throughput. WEB_CONCURRENCY overrides the cap.
MAX_WORKERS = 8


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use (cgroups, taskset)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}.") from None
    if number < 1:
        raise SystemExit(f"{name} must be at least 1, not {number}.")
    return number


def _bind() -> list[str]:
    if os.environ.get("TRACKER_BIND", "").strip():
        return [part.strip() for part in os.environ["TRACKER_BIND"].split(",") if part.strip()]
    if os.environ.get("PORT", "").strip():
        return [f"127.0.0.1:{_number('PORT', 8000)}"]
    return ["127.0.0.1:8000"]


bind = _bind()
workers = _number("WEB_CONCURRENCY", min(2 * _cores() + 1, MAX_WORKERS))
# Threads: a request mostly waits (on the database, on AniList for a search that missed
# the catalogue), so a few threads per process keep the cores busy. The gthread worker
# also keeps idle keep-alive connections off the threads.
threads = _number("TRACKER_WEB_THREADS", 4)
worker_class = "gthread"
# With gthread the timeout is a worker's heartbeat, not a request's length: a long
# export stream is not cut. A worker that stops answering for this long is replaced.
timeout = _number("TRACKER_WEB_TIMEOUT", 30)
graceful_timeout = _number("TRACKER_WEB_GRACEFUL_TIMEOUT", 30)  # to finish requests on stop
keepalive = _number("TRACKER_WEB_KEEPALIVE", 5)
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # the heartbeat file on tmpfs: never blocked by a slow disk

# Not preloaded: each worker imports and builds the app itself. A preloaded app is
# built once in the master and forked, so a database connection (or a thread) made
# while building it would be shared by every worker; and a HUP would not pick up new
# code. The memory a shared copy saves is small next to that.
preload_app = False

# Forwarded headers are the app's business alone: TRACKER_TRUSTED_PROXIES turns on
# Werkzeug's ProxyFix for exactly that many hops (tracker/security.py). gunicorn
# trusting X-Forwarded-Proto itself (it does, by default, from 127.0.0.1) would make
# a second, differently configured judge, so it trusts no address.
forwarded_allow_ips = ""

# Logs to standard output/error, for the journal or the container runtime. The access
# line carries the request id the app answers with (X-Request-ID), so a line can be
# matched with the app's own log lines; %(h)s is the client as ProxyFix sees it.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("TRACKER_LOG_LEVEL", "info")
# The request line passes through the app's redaction, as the app's own log lines do:
# an OAuth callback's ?code= and the calendar feed's secret path never reach the log.
logger_class = "tracker.logs.RedactingAccessLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s "%(f)s" "%(a)s"'


def child_exit(server, worker) -> None:
    """A worker process ended: with Prometheus' multi-process mode on, its live gauges
    go with it (prometheus_client is needed only when PROMETHEUS_MULTIPROC_DIR is set)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    try:
        from prometheus_client import multiprocess
    except ImportError:
        server.log.warning("PROMETHEUS_MULTIPROC_DIR is set but prometheus_client is missing")
        return
    multiprocess.mark_process_dead(worker.pid)
