"""What the service does, for its operators: a request id on every request and log line,
JSON logs (one object per line), and Prometheus metrics at ``/metrics``.

Metrics are prometheus_client's. Under gunicorn (several worker processes) each worker
writes its figures to ``PROMETHEUS_MULTIPROC_DIR`` (set by deploy/gunicorn.conf.py) and a
scrape sums them over the workers; in one process (``flask run``, tests) they are the
process's own. Queue figures are read from the database at scrape time, so every worker
answers the same: the moderation queue, and the job queue and webhook failures of
api/webhooks.

``/metrics`` is for operators: an administrator's bearer token, or the scraper's secret
``PEACEMAP_METRICS_TOKEN`` (``Authorization: Bearer <secret>``). Anybody else gets 401/403.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import sys
import time
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import text

from api.db import db
from api.permissions import require
from api.webhooks.models import DELIVERY_STATUSES
from api.webhooks.queue import QUEUE

REQUEST_ID_HEADER = "X-Request-Id"
# A proxy's id is kept when it is a plain token (a UUID, nginx's $request_id...); anything
# else (too long, spaces, quotes, control characters) is replaced by an id of our own.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
UNMATCHED = "<unmatched>"  # the endpoint label of a request no URL rule matched

REQUESTS = Histogram(
    "peacemap_http_request_duration_seconds",
    "Time to answer a request, by endpoint (the URL rule, never the raw path), method and "
    "status; its _count is the number of requests.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
POOL_CHECKED_OUT = Gauge(
    "peacemap_db_pool_checked_out",
    "Database connections in use, summed over the live worker processes.",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "peacemap_db_pool_size",
    "Database connections the pools keep open, summed over the live worker processes.",
    multiprocess_mode="livesum",
)

# Contribution states that wait on somebody (api/moderation/workflow.py).
WAITING_STATES = ("submitted", "in_review", "awaiting_consent", "changes_requested")
PENDING_STATES = ("submitted", "in_review")


def init_app(app: Flask) -> None:
    configure_logging(app.config["LOG_LEVEL"])
    app.before_request(_start)
    app.after_request(_finish)
    app.add_url_rule("/metrics", "metrics", metrics_view)


# -- request ids --------------------------------------------------------------------------


def request_id() -> str | None:
    """The current request's id, or None outside a request."""
    if not has_request_context():
        return None
    if "request_id" not in g:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = sent if _SANE_REQUEST_ID.fullmatch(sent) else _new_request_id()
    return g.request_id


def _new_request_id() -> str:
    """32 hex digits, like a UUID's. Not uuid4: its os.urandom is a system call, and under
    gunicorn's threads each one gave the GIL away and waited to get it back (3-5% of a
    single item in py-spy). A correlation id needs to be unique, not unguessable; the
    random module is reseeded in every forked worker."""
    return f"{random.getrandbits(128):032x}"


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    started = g.get("request_started")
    if started is not None:
        endpoint = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    pool = db.engine.pool
    if hasattr(pool, "checkedout"):
        POOL_CHECKED_OUT.set(pool.checkedout())
        POOL_SIZE.set(pool.size())
    return response


# -- logs ---------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (null outside a
    request), and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    """Log lines go to stderr as JSON (under gunicorn, into its error log). Where the
    root logger already has handlers (pytest's capture), those are left as they are."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    logging.getLogger("peacemap").setLevel(level)


# -- /metrics -----------------------------------------------------------------------------


def _require_operator() -> None:
    from api.auth import current_principal

    principal = current_principal()
    if not principal.scraper:
        require(principal, "metrics.read")


class QueueCollector:
    """The moderation queue as the database holds it at scrape time."""

    def __init__(self, session) -> None:
        self.session = session

    def collect(self):
        by_state = GaugeMetricFamily(
            "peacemap_moderation_queue",
            "Contributions waiting on somebody, by state.",
            labels=["state"],
        )
        counts = dict(
            self.session.execute(
                text(
                    "SELECT state::text, count(*) FROM contributions "
                    "WHERE state::text = ANY(:states) GROUP BY state"
                ),
                {"states": list(WAITING_STATES)},
            ).all()
        )
        for state in WAITING_STATES:
            by_state.add_metric([state], counts.get(state, 0))
        yield by_state

        urgent, oldest = self.session.execute(
            text(
                "SELECT count(*) FILTER (WHERE urgent), "
                "extract(epoch FROM now() - min(submitted_at)) "
                "FROM contributions WHERE state::text = ANY(:states)"
            ),
            {"states": list(PENDING_STATES)},
        ).one()
        yield GaugeMetricFamily(
            "peacemap_moderation_urgent",
            "Pending flag reviews marked urgent (someone may be in danger).",
            value=urgent,
        )
        yield GaugeMetricFamily(
            "peacemap_moderation_oldest_pending_age_seconds",
            "How long the oldest pending contribution has waited (0 when none waits).",
            value=float(oldest or 0),
        )
        open_flags = self.session.execute(
            text("SELECT count(*) FROM flags WHERE state = 'open'")
        ).scalar_one()
        yield GaugeMetricFamily("peacemap_flags_open", "Flags not yet resolved.", value=open_flags)


class PushCollector:
    """The job queue and webhook deliveries (api/webhooks) as the database holds them."""

    def __init__(self, session) -> None:
        self.session = session

    def collect(self):
        jobs = GaugeMetricFamily(
            "peacemap_queue_jobs",
            "Jobs in the worker's queue, waiting (todo) or running (doing), by queue.",
            labels=["queue", "status"],
        )
        counts = {
            (queue, status): count
            for queue, status, count in self.session.execute(
                text(
                    "SELECT queue_name, status::text, count(*) FROM procrastinate_jobs "
                    "WHERE status IN ('todo', 'doing') GROUP BY queue_name, status"
                )
            ).all()
        }
        for queue in sorted({q for q, _ in counts} | {QUEUE}):
            for status in ("todo", "doing"):
                jobs.add_metric([queue, status], counts.get((queue, status), 0))
        yield jobs

        deliveries = GaugeMetricFamily(
            "peacemap_webhook_deliveries",
            "Webhook and digest deliveries by status (failed: given up after every retry).",
            labels=["status"],
        )
        by_status = dict(
            self.session.execute(
                text("SELECT status, count(*) FROM deliveries GROUP BY status")
            ).all()
        )
        for status in DELIVERY_STATUSES:
            deliveries.add_metric([status], by_status.get(status, 0))
        yield deliveries

        failures = self.session.execute(
            text(
                "SELECT count(*) FROM delivery_attempts "
                "WHERE response_code IS NULL OR response_code NOT BETWEEN 200 AND 299"
            )
        ).scalar_one()
        yield CounterMetricFamily(
            "peacemap_webhook_failed_attempts",
            "Webhook attempts that got no 2xx answer (each retry counts).",
            value=failures,
        )


def metrics_view():
    _require_operator()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    queue = CollectorRegistry()
    queue.register(QueueCollector(db.session))
    queue.register(PushCollector(db.session))
    body += generate_latest(queue)
    headers = {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
    return Response(body, headers=headers)
