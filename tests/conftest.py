"""Test fixtures: a real PostGIS database, created anew per run and migrated once;
each test runs in a transaction that is rolled back, so handler commits are savepoints."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from api import create_app, migrate
from api.actors.schemas import ActorCreateSchema
from api.actors.service import create_actor
from api.config import from_environment
from api.db import db

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _test_database_url() -> str:
    if url := os.environ.get("TEST_DATABASE_URL"):
        return url
    url = make_url(from_environment()["DATABASE_URL"])
    return url.set(database=f"{url.database}_test").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url() -> str:
    url = _test_database_url()
    migrate.ensure_database(url, recreate=True)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def app(database_url):
    return create_app({"DATABASE_URL": database_url, "ADMIN_TOKEN": ADMIN_TOKEN, "TESTING": True})


@pytest.fixture
def connection(app):
    connection = db.engine.connect()
    transaction = connection.begin()
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    yield connection
    db.session.remove()
    transaction.rollback()
    connection.close()
    db.factory.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def session(connection):
    return db.session


@pytest.fixture
def client(app, connection):
    return app.test_client()


def actor_payload(**overrides) -> dict:
    payload = {
        "kind": "organisation",
        "name": f"Test Peace Centre {uuid.uuid4().hex[:6]}",
        "summary": "Dialogue between communities.",
        "language": "en",
        "themes": ["mediation_dialogue"],
        "location": {"type": "Point", "coordinates": [36.82, -1.29]},  # Nairobi
        "location_precision": "exact",
        "status": "published",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def make_actor(app, session):
    """Create an actor through the service, as the API would; returns the Actor.
    (Tests hold no app context, so each request gets its own, as in production.)"""

    def make(**overrides):
        with app.app_context():
            data = ActorCreateSchema().load(actor_payload(**overrides))
        actor = create_actor(session, data)
        session.commit()  # a savepoint: the test's transaction still rolls it back
        return actor

    return make


@pytest.fixture
def count_queries(connection):
    """Counts the SELECTs run inside the block: ``with count_queries() as n: ...``."""

    class Counter:
        def __init__(self):
            self.count = 0

        def __enter__(self):
            event.listen(connection, "before_cursor_execute", self._count)
            return self

        def __exit__(self, *exc):
            event.remove(connection, "before_cursor_execute", self._count)

        def _count(self, conn, cursor, statement, *args):
            self.count += statement.lstrip().upper().startswith("SELECT")

    return Counter
