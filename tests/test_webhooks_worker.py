"""The worker as a real process (`flask --app wsgi worker`, as `make run` and
scripts/prod.sh start it) fed by the real queue, beside gunicorn, on a database of their
own (they must see committed data): a change made through the API reaches a real receiver
as a signed webhook; a receiver that answers 500 once sees the retry succeed; the delivery
log shows both attempts; a replay re-sends; SIGTERM stops the worker cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from api.accounts.models import User
from api.accounts.service import issue_token
from tests.conftest import DATA_KEY, SECRET_KEY, migrated_database
from tests.servers import BIN, ROOT, Receiver, gunicorn, request


@pytest.fixture(scope="module")
def database(database_urls):
    return migrated_database(database_urls, "push")


@pytest.fixture(scope="module")
def people(database):
    """Bearer headers of a contributor and a moderator, in the stack's database."""
    engine = create_engine(database["MIGRATION_DATABASE_URL"])
    headers = {}
    with Session(engine) as session:
        for role in ("contributor", "moderator"):
            user = User(
                email=f"{role}-{uuid.uuid4().hex[:8]}@example.org",
                display_name=f"Push {role}",
                password_hash="not-used",
                role=role,
                status="active",
                email_verified_at=datetime.now(UTC),
            )
            session.add(user)
            session.flush()
            expires = datetime.now(UTC) + timedelta(hours=1)
            _, secret = issue_token(
                session, user, kind="session", name="push", key=SECRET_KEY, expires_at=expires
            )
            headers[role] = {"Authorization": f"Bearer {secret}"}
        session.commit()
    engine.dispose()
    return headers


@pytest.fixture(scope="module")
def stack(database, tmp_path_factory):
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": database["DATABASE_URL"],
        "PEACEMAP_MIGRATION_DATABASE_URL": database["MIGRATION_DATABASE_URL"],
        "PEACEMAP_DATA_KEY": DATA_KEY,
        "PEACEMAP_SECRET_KEY": SECRET_KEY,
        "PEACEMAP_RATELIMIT_ENABLED": "false",
        "PEACEMAP_WEBHOOKS_ALLOW_PRIVATE": "true",  # the receiver is on this machine
        "PEACEMAP_WEBHOOK_RETRY_BASE_SECONDS": "1",
        "PEACEMAP_ACCESS_LOG": "",
    }
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "worker", "--concurrency", "2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with gunicorn(env) as server:
            deadline = time.monotonic() + 120
            while "worker started" not in log.read_text():
                assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            yield server, worker, log
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _delivered(server, subscription_id, headers, status, count, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        log = request(
            server, "GET", f"/api/v1/subscriptions/{subscription_id}/deliveries", None, headers
        )
        items = log.json()["items"]
        if items and items[0]["status"] == status and len(items[0]["attempt_log"]) >= count:
            return items[0]
        assert time.monotonic() < deadline, items
        time.sleep(0.3)


def test_a_change_reaches_the_receiver_signed_retried_logged_and_replayed(stack, people):
    server, *_ = stack
    with Receiver(answers=(500, 200)) as receiver:
        made = request(
            server,
            "POST",
            "/api/v1/subscriptions",
            {"topic": "actors", "url": receiver.url, "country": "SL"},
            people["contributor"],
        )
        assert made.status == 201, made.body
        subscription = made.json()
        actor = {
            "kind": "organisation",
            "name": "Freetown Dialogue Circle",
            "language": "en",
            "location": {"type": "Point", "coordinates": [-13.23, 8.48]},
            "status": "published",
        }
        created = request(server, "POST", "/api/v1/actors", actor, people["moderator"])
        assert created.status == 201, created.body

        failed, retried = receiver.wait_for(2)
        verify = Webhook(subscription["secret"])
        for got in (failed, retried):
            event = verify.verify(got.body, got.headers)
            assert event["type"] == "actor.created"
            assert event["data"]["actor"]["name"] == "Freetown Dialogue Circle"
        assert failed.headers["webhook-id"] == retried.headers["webhook-id"]

        entry = _delivered(server, subscription["id"], people["contributor"], "delivered", 2)
        assert [a["response_code"] for a in entry["attempt_log"]] == [500, 200]
        assert entry["attempts"] == 2 and entry["next_attempt_at"] is None
        first, second = (datetime.fromisoformat(a["attempted_at"]) for a in entry["attempt_log"])
        assert second - first >= timedelta(seconds=1)  # the back-off's base

        path = f"/api/v1/subscriptions/{subscription['id']}/deliveries/{entry['id']}/replay"
        replayed = request(server, "POST", path, None, people["contributor"])
        assert replayed.status == 202, replayed.body
        *_, again = receiver.wait_for(3)
        assert again.headers["webhook-id"] == failed.headers["webhook-id"]
        verify.verify(again.body, again.headers)
        _delivered(server, subscription["id"], people["contributor"], "delivered", 3)


def test_the_worker_stops_cleanly_on_sigterm(stack):
    _, worker, log = stack
    assert worker.poll() is None, Path(log).read_text()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    assert "worker stopped" in log.read_text()
