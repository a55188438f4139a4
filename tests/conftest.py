"""Test fixtures: a real PostGIS database, created anew per run and migrated once;
each test runs in a transaction that is rolled back, so handler commits are savepoints."""

from __future__ import annotations

import email
import email.policy
import email.utils
import logging
import mailbox as mailbox_module
import os
import re
import smtplib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import cache
from pathlib import Path

import pytest
import redis
from sqlalchemy import event
from sqlalchemy.engine import make_url

from api import create_app, crypto, migrate
from api.accounts import credentials
from api.accounts.models import User
from api.accounts.service import issue_token, set_membership
from api.actors.schemas import ActorCreateSchema
from api.actors.service import create_actor
from api.config import from_environment
from api.db import db
from api.observability import JsonFormatter
from api.principal import ANONYMOUS
from tests import log_hygiene
from tests.servers import LOG_DIR

LOG_SIZES = pytest.StashKey[dict]()
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"
PASSWORD = "correct horse battery staple"


def _test_database_urls() -> dict[str, str | None]:
    """The app's, the owner's and the superuser's URLs of the test database: those of the
    configuration with ``_test`` after the database name (TEST_DATABASE_URL: one role)."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        return {"DATABASE_URL": url, "MIGRATION_DATABASE_URL": url, "ADMIN_DATABASE_URL": None}
    config = from_environment()

    def test_url(key: str) -> str | None:
        if not config[key]:
            return None
        url = make_url(config[key])
        return url.set(database=f"{url.database}_test").render_as_string(hide_password=False)

    return {key: test_url(key) for key in DATABASE_URL_KEYS}


DATABASE_URL_KEYS = ("DATABASE_URL", "MIGRATION_DATABASE_URL", "ADMIN_DATABASE_URL")


# A data key of the test run's own (api.crypto): the test database is created anew too.
DATA_KEY = crypto.generate_key("test")
# The keyring is process-wide (api.crypto): every app a test creates uses this key too.
os.environ["PEACEMAP_DATA_KEY"] = DATA_KEY


@pytest.fixture(scope="session")
def database_urls() -> dict[str, str | None]:
    crypto.install(crypto.Keyring.parse(DATA_KEY))  # the migrations seal with it
    urls = _test_database_urls()
    migrate.upgrade(
        urls["MIGRATION_DATABASE_URL"],
        app_url=urls["DATABASE_URL"],
        admin_url=urls["ADMIN_DATABASE_URL"],
        recreate=True,
    )
    return urls


def migrated_database(database_urls: dict, suffix: str) -> dict[str, str | None]:
    """A database of a module's own beside the test database (``<name>_<suffix>``, with the
    same roles), created anew and migrated: for servers that must see committed data,
    which the other tests' rolled-back transactions never leave."""

    def own(url: str | None) -> str | None:
        if url is None:
            return None
        url = make_url(url)
        return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)

    urls = {key: own(url) for key, url in database_urls.items()}
    migrate.upgrade(
        urls["MIGRATION_DATABASE_URL"],
        app_url=urls["DATABASE_URL"],
        admin_url=urls["ADMIN_DATABASE_URL"],
        recreate=True,
    )
    return urls


@pytest.fixture(scope="session")
def database_url(database_urls) -> str:
    """The URL the service connects with (its least-privileged role)."""
    return database_urls["DATABASE_URL"]


@pytest.fixture(scope="session")
def app(database_urls):
    return create_app(
        {
            **database_urls,
            "DATA_KEY": DATA_KEY,
            "SECRET_KEY": SECRET_KEY,
            "TESTING": True,
            "RATELIMIT_ENABLED": False,  # tests/test_accounts.py checks the limits on its own app
            # A shared CI machine can be slow; tests/test_faults.py checks the real bounds.
            "DB_STATEMENT_TIMEOUT_MS": 60_000,
        }
    )


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared rate-limit store that `make test` starts (scripts/redis.sh), database 1
    (the service uses 0), as the tests' database is ``<name>_test``: the limit tests run
    against the real Redis, never against a per-process fallback."""
    url = make_url(from_environment()["RATELIMIT_STORAGE_URI"]).set(database="1")
    url = url.render_as_string(hide_password=False)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {url} is not running ({error}); `make test` starts it.")
    return url


@pytest.fixture
def limited_app(database_urls, connection, redis_url):
    """An app with rate limits on, counting in the test Redis database, emptied first so
    that no other test's counters count: ``limited_app(RATELIMIT_USER="4/minute")``."""

    def make(**config):
        redis.Redis.from_url(redis_url).flushdb()
        settings = {
            **database_urls,
            "SECRET_KEY": SECRET_KEY,
            "RATELIMIT_STORAGE_URI": redis_url,
            **config,
        }
        created = create_app(settings)
        db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
        return created

    return make


@pytest.fixture(scope="session")
def smtp_server(app) -> str:
    """The local SMTP server that `make test` starts (scripts/smtp.sh); its maildir."""
    host, port = app.config["SMTP_HOST"], app.config["SMTP_PORT"]
    try:
        with smtplib.SMTP(host, port, timeout=5) as smtp:
            smtp.noop()
    except OSError as error:
        pytest.fail(f"No SMTP server on {host}:{port} ({error}); `make test` starts it.")
    root = Path(__file__).resolve().parent.parent
    return os.environ.get("PEACEMAP_MAILDIR") or str((root / ".smtp" / "maildir").resolve())


@pytest.fixture
def mailbox(smtp_server):
    """The mails the SMTP server received for an address: ``mailbox("ana@example.org")``,
    oldest first (as email.message.EmailMessage). Addresses in tests are unique, so mails
    of earlier runs never match."""

    def received(address: str) -> list[EmailMessage]:
        messages = mailbox_module.Maildir(smtp_server, factory=None, create=False)
        found = [
            email.message_from_bytes(messages.get_bytes(key), policy=email.policy.default)
            for key in messages.iterkeys()
        ]
        mine = [m for m in found if address.lower() in m["To"].lower()]
        return sorted(mine, key=lambda m: email.utils.parsedate_to_datetime(m["Date"]))

    return received


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


@cache
def _password_hash() -> str:
    return credentials.hash_password(PASSWORD)  # argon2 is slow on purpose: hash once


@pytest.fixture
def make_user(session):
    """Create a user: ``make_user("moderator")`` or ``make_user(manager_of=actor)``; with a
    confirmed address unless ``verified=False``."""

    def make(
        role="contributor",
        *,
        email=None,
        status="active",
        manager_of=None,
        member_of=None,
        verified=True,
    ):
        user = User(
            email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.org",
            display_name=f"Test {role}",
            password_hash=_password_hash(),
            role=role,
            status=status,
            email_verified_at=datetime.now(UTC) if verified else None,
        )
        session.add(user)
        session.flush()
        for actor, membership in ((manager_of, "manager"), (member_of, "member")):
            if actor is not None:
                set_membership(session, user, actor.id, membership, ANONYMOUS)
        session.commit()
        return user

    return make


@pytest.fixture
def login(session):
    """Bearer headers for a user: ``client.get(url, headers=login(user))``."""

    def headers_for(user, **token_options):
        options = {"kind": "session", "name": "test", "expires_at": None, **token_options}
        _, secret = issue_token(session, user, key=SECRET_KEY, **options)
        session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return headers_for


@pytest.fixture
def org(make_actor, make_user, login):
    """An organisation reporting its projects: its actor, one member (the user and bearer
    headers) and an outsider's headers."""
    actor = make_actor(name="Kenema Peace Platform")
    member = make_user(member_of=actor)
    return {
        "actor": actor,
        "actor_id": str(actor.id),
        "user": member,
        "member": login(member),
        "outsider": login(make_user()),
    }


def csrf_token(html: str) -> str:
    """The CSRF token of a web page's forms."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def form_token(client, path: str = "/sign-in") -> str:
    """A fresh CSRF token for ``client``'s session, from a page of the web application."""
    return csrf_token(client.get(path).get_data(as_text=True))


@pytest.fixture
def web_sign_in():
    """Sign a test client in through the sign-in page, as a browser does:
    ``web_sign_in(client, user)`` (make_user's users have the password PASSWORD). The
    session is new afterwards: take CSRF tokens from pages read after it (form_token)."""

    def sign_in(client, user, password: str = PASSWORD):
        response = client.post(
            "/sign-in",
            data={"email": user.email, "password": password, "csrf_token": form_token(client)},
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return sign_in


@pytest.fixture
def people_headers(make_user, login):
    """Headers of a new signed-in user of a role: ``people_headers("moderator")``."""
    return lambda role="contributor": login(make_user(role))


@pytest.fixture
def admin(make_user, login):
    """Headers of a signed-in administrator."""
    return login(make_user("admin"))


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


# The browser harness's fixtures: phone, desktop, arabic, browser (all three), live_server.
# -- the logs of the whole run: nothing in them that places or identifies anyone ---------


def pytest_sessionstart(session):
    """Every log line the app writes in this process goes to tests/artifacts/logs/pytest.log
    (as JSON, as in production), beside the servers' own logs, for the check at the end."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for old in LOG_DIR.glob("*.log"):
        old.unlink()
    session.config.stash[LOG_SIZES] = log_hygiene.log_sizes()
    handler = logging.FileHandler(LOG_DIR / "pytest.log", mode="w")
    handler.setFormatter(JsonFormatter())
    # Werkzeug's development server logs whole URLs; production runs gunicorn, whose access
    # log (api.accesslog) is among the logs checked.
    handler.addFilter(lambda record: not record.name.startswith("werkzeug"))
    logging.getLogger().addHandler(handler)


def pytest_sessionfinish(session, exitstatus):
    """Grep every log the run wrote (tests.log_hygiene): a coordinate, a token or a
    contact in any line fails the run."""
    before = session.config.stash.get(LOG_SIZES, None)
    if before is None:
        return
    found = log_hygiene.findings(before)
    if found:
        report = session.config.get_terminal_writer()
        report.line("Log lines that carry what no log may keep (tests/log_hygiene.py):", red=True)
        for line in found[:50]:
            report.line("  " + line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


from tests.browser import _chromiums, arabic, browser, desktop, live_server, phone  # noqa: E402, F401
