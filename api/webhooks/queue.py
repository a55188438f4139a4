"""The job queue: procrastinate, on the service's own PostgreSQL.

Why procrastinate: no new server to run, and a job is deferred *in the transaction of the
change that caused it* (``enqueue`` writes through the request's own connection), so a
rolled-back change sends nothing and a committed one is never lost between the database
and a separate broker. Its worker listens (LISTEN/NOTIFY) so deliveries start at once,
retries failed jobs when we say (``RetryLater``), and runs the periodic digest.

The web process only defers; ``flask --app wsgi worker`` (started by `make run` and
scripts/prod.sh next to gunicorn) runs the jobs with the app's configuration and database.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import procrastinate
from flask import Flask
from procrastinate.contrib.sqlalchemy import SQLAlchemyPsycopg2Connector
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api.db import db

QUEUE = "webhooks"
log = logging.getLogger("peacemap.worker")

# Deferring only ever goes through a connection we hand it (the request's).
queue = procrastinate.App(connector=SQLAlchemyPsycopg2Connector())
_app: Flask | None = None  # the Flask app whose config and database the worker's jobs use


class RetryLater(Exception):
    def __init__(self, at: datetime) -> None:
        super().__init__(f"retry at {at.isoformat()}")
        self.at = at


class _AsScheduled(procrastinate.BaseRetryStrategy):
    """Retry exactly when api.webhooks.delivery scheduled it (and logged it)."""

    def get_retry_decision(self, *, exception, job):
        if isinstance(exception, RetryLater):
            return procrastinate.RetryDecision(retry_at=exception.at)
        return None


def enqueue(session: Session, delivery_id: uuid.UUID) -> None:
    """Defer the delivery's first attempt in the session's transaction."""
    deliver.configure(connection=session.connection()).defer(delivery_id=str(delivery_id))


@queue.task(name="deliver", queue=QUEUE, retry=_AsScheduled(), pass_context=True)
def deliver(context: procrastinate.JobContext, delivery_id: str) -> None:
    from api.webhooks.delivery import attempt

    with _app.app_context():
        retry_at = attempt(
            db.session, _app.config, uuid.UUID(delivery_id), retry=context.job.attempts
        )
        db.session.commit()
    if retry_at is not None:
        raise RetryLater(retry_at)


@queue.periodic(cron="*/15 * * * *", periodic_id="digests")
@queue.task(name="digests", queue=QUEUE, queueing_lock="digests")
def digests(timestamp: int) -> None:
    """Every quarter of an hour, the daily and weekly digests that are due."""
    from api.webhooks.digests import send_due_digests

    with _app.app_context():
        sent = send_due_digests(db.session, _app.config, datetime.fromtimestamp(timestamp, UTC))
        db.session.commit()
    if sent:
        log.info("digests sent: %d", sent)


def run_worker(app: Flask, *, concurrency: int) -> None:
    """Run jobs until SIGTERM or SIGINT (then finish the running ones and stop)."""
    global _app
    _app = app
    url = make_url(app.config["DATABASE_URL"]).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo, kwargs={"options": "-c timezone=UTC"}
    )
    with queue.replace_connector(connector):  # the worker's loop needs an asynchronous one
        log.info("worker started: queue %s, concurrency %d", QUEUE, concurrency)
        queue.run_worker(queues=[QUEUE], concurrency=concurrency, install_signal_handlers=True)
    log.info("worker stopped")
