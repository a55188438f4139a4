"""Gunicorn settings of the production-shaped stack (scripts/prod.sh) and of the tests that
run the service as a real server. Behind nginx (deploy/nginx.conf.template), which buffers
slow clients' requests and responses, so a worker thread is only busy while the app works.

Environment: PEACEMAP_BIND (default 127.0.0.1:58000 + PEACEMAP_PORT_OFFSET),
PEACEMAP_WORKERS (default 2), PEACEMAP_THREADS (default 4), PEACEMAP_WORKER_TIMEOUT
(default 30 s), PEACEMAP_ACCESS_LOG (default "-": stdout; empty for none),
PROMETHEUS_MULTIPROC_DIR (default: a fresh temporary folder; emptied at start).
"""

import os
import shutil
import tempfile

_offset = int(os.environ.get("PEACEMAP_PORT_OFFSET") or 0)
bind = os.environ.get("PEACEMAP_BIND") or f"127.0.0.1:{58000 + _offset}"
workers = int(os.environ.get("PEACEMAP_WORKERS") or 2)
# Threads, not sync workers: a sync worker is killed when one response takes longer than
# `timeout` (a 1,000,000-actor export streams for minutes); a gthread worker's heartbeat
# comes from its main loop, so `timeout` only catches a worker that is truly stuck.
worker_class = "gthread"
threads = int(os.environ.get("PEACEMAP_THREADS") or 4)
timeout = int(os.environ.get("PEACEMAP_WORKER_TIMEOUT") or 30)
graceful_timeout = 20
keepalive = 5
# Larger than nginx's, so that an oversized request line or header is refused by nginx
# (as problem+json) before it ever reaches gunicorn.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 16380
forwarded_allow_ips = "127.0.0.1"
accesslog = os.environ.get("PEACEMAP_ACCESS_LOG", "-") or None
# JSON lines with the request id; search coordinates, tile addresses and credentials never
# reach the access log.
logger_class = "api.accesslog.JsonLogger"

# /metrics sums every worker's figures: prometheus_client's multiprocess mode, whose files
# live in a folder of this server's own, emptied when it starts (api/observability.py).
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
    prefix="peacemap-metrics-"
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
# Emptied now, before the logger class (which imports the app's metrics) is loaded.
shutil.rmtree(metrics_dir, ignore_errors=True)
os.makedirs(metrics_dir, exist_ok=True)


def when_ready(server):
    # In production the country boundaries (about 1.6 s to read and index) are loaded once,
    # here in the master before it forks, so every worker starts with them instead of paying
    # for them on its first `country` filter. The tests' servers never need them.
    if os.environ.get("PEACEMAP_ENV") == "production":
        from geo.countries import load

        load()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:  # a temporary folder of this server's own
        shutil.rmtree(metrics_dir, ignore_errors=True)


errorlog = "-"
# The app's own log lines (one per refused request when the database is unavailable, one
# per unhandled error) go to the error log too, also when gunicorn runs as a daemon.
capture_output = True
