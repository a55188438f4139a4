"""Faults in the database, as clients live them: the service runs in gunicorn (production
settings) on a throw-away PostgreSQL cluster of the tests' own, which is crashed, frozen
(SIGSTOP) and locked under load. Clients get 503 problem+json with Retry-After within a
few seconds, never a hang or a 500; the service recovers by itself; each failure is one
log line with its error id; acknowledged writes are all there, refused ones never half."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from api import migrate
from tests.servers import (
    OFFSET,
    ROOT,
    Cluster,
    Load,
    gunicorn,
    moderator_headers,
    new_actor,
    request,
)

SECRET_KEY = "fault-test-secret-key-0123456789abcdefghij"
STATEMENT_TIMEOUT_MS = 1000
WATCHDOG_MARGIN_S = 1
CONNECT_TIMEOUT_S = 2
POOL_TIMEOUT_S = 1
# The longest a request should wait while the database misbehaves: the statement deadline
# or the connect timeout plus a wait for a pool slot (about 4 s), with room for a CI
# machine shared by many jobs. The freeze lasts longer, so a request that waited for the
# thaw instead of giving up cannot pass for one that gave up in time.
BOUND_S = 8
FREEZE_S = 12


@pytest.fixture(scope="module")
def cluster():
    cluster = Cluster(ROOT / ".pgfault", 54629 + OFFSET)
    cluster.start()
    # A template migrated once (and again only when migrations change), copied per run.
    template = cluster.url("peacemap_fault_template")
    migrate.upgrade(template)
    server = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS peacemap_fault WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE peacemap_fault TEMPLATE peacemap_fault_template"))
    server.dispose()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def database(cluster):
    # No pool: the tests' own connections must not be the ones the outage breaks.
    engine = create_engine(cluster.url("peacemap_fault"), poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def moderator(database):
    return moderator_headers(database, SECRET_KEY)


@pytest.fixture(scope="module")
def service(cluster, moderator):
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": cluster.url("peacemap_fault"),
        "PEACEMAP_SECRET_KEY": SECRET_KEY,
        "PEACEMAP_RATELIMIT_ENABLED": "false",
        "PEACEMAP_DB_STATEMENT_TIMEOUT_MS": str(STATEMENT_TIMEOUT_MS),
        "PEACEMAP_DB_WATCHDOG_MARGIN": str(WATCHDOG_MARGIN_S),
        "PEACEMAP_DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S),
        "PEACEMAP_DB_POOL_TIMEOUT": str(POOL_TIMEOUT_S),
        "PEACEMAP_DB_RETRY_AFTER": "2",
        "PEACEMAP_THREADS": "8",
        "PEACEMAP_ACCESS_LOG": "",
    }
    with gunicorn(env) as server:
        # Warm up: a worker's first write loads the country outlines, which takes seconds
        # on a busy machine and is no part of what these tests measure.
        warm = request(server, "POST", "/api/v1/actors", new_actor("warm-up"), moderator)
        assert warm.status == 201, warm.body
        yield server


def _under_load(service, moderator, outage, *, writers=4, readers=4):
    """Runs readers and writers before, during and after ``outage()``; returns outcomes."""
    load = Load()
    load.add(
        writers,
        lambda: (
            lambda name: request(
                service, "POST", "/api/v1/actors", new_actor(name), moderator, tag=name
            )
        )(f"fault-{uuid.uuid4().hex}"),
        pause=0.05,
    )
    load.add(readers, lambda: request(service, "GET", "/api/v1/actors?limit=5"), pause=0.05)
    with load:
        time.sleep(1.5)
        outage()
        _wait_until_ready(service, load.outcomes)
        time.sleep(1.5)  # serving again, under the same load
    return load.outcomes


def _wait_until_ready(service, outcomes, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while True:
        outcome = request(service, "GET", "/readyz")
        outcomes.append(outcome)
        if outcome.status == 200:
            return
        assert time.monotonic() < deadline, "the service did not recover by itself"
        time.sleep(0.5)


def _check_answers(outcomes, service):
    """Every answer is a success or a documented 503, in time; each 503 logged once."""
    assert outcomes
    log = service.log_text()
    refused = [o for o in outcomes if o.status == 503]
    assert refused, "the outage was not noticed"
    assert {o.status for o in outcomes} <= {200, 201, 503}, sorted({o.status for o in outcomes})
    slowest = max(outcomes, key=lambda o: o.seconds)
    assert slowest.seconds < BOUND_S, (slowest.path, slowest.status, slowest.seconds)
    assert sorted(o.seconds for o in refused)[len(refused) // 2] < BOUND_S / 2  # the median
    for outcome in refused:
        assert outcome.headers["content-type"] == "application/problem+json"
        assert int(outcome.headers["retry-after"]) > 0
        problem = outcome.json()
        assert problem["status"] == 503
        assert log.count(f"database unavailable {problem['error_id']} ") == 1
    assert "Traceback" not in log
    # Recovered by itself: the last requests, reads and writes, all succeed again.
    assert {o.status for o in outcomes[-20:]} == {200, 201}


def _check_writes(outcomes, database):
    """Acknowledged writes are all present; refused ones are absent or whole (a commit cut
    short by the outage may have been applied: the 503 says so), never half-present."""
    writes = {o.tag: o for o in outcomes if o.method == "POST"}
    with database.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT a.name, count(r.id) AS revisions FROM actors a "
                "LEFT JOIN revisions r ON r.target_type = 'actor' AND r.target_id = a.id "
                "WHERE a.name = ANY(:names) GROUP BY a.name"
            ),
            {"names": list(writes)},
        ).all()
    present = {row.name: row.revisions for row in rows}
    acknowledged = [name for name, o in writes.items() if o.status == 201]
    assert acknowledged
    assert all(name in present for name in acknowledged)
    assert all(count == 1 for count in present.values())  # an actor always with its revision
    assert set(present) <= set(writes)


def test_a_crashed_database_gives_503_then_the_service_recovers(
    service, cluster, database, moderator
):
    healthz = []

    def crash_and_restart():
        cluster.stop("immediate")
        time.sleep(2)
        healthz.append(request(service, "GET", "/healthz"))
        time.sleep(1)
        cluster.start()

    outcomes = _under_load(service, moderator, crash_and_restart)
    _check_answers(outcomes, service)
    _check_writes(outcomes, database)
    assert healthz[0].status == 200  # the process lives even without its database
    assert healthz[0].seconds < 2


def test_a_frozen_database_gives_503_within_seconds_never_a_hang(
    service, cluster, database, moderator
):
    window = {}

    def freeze_and_thaw():
        frozen = []
        try:
            window["frozen"] = time.monotonic()
            frozen = cluster.freeze()
            time.sleep(FREEZE_S)
        finally:
            cluster.thaw(frozen or [cluster.postmaster()])
            window["thawed"] = time.monotonic()

    outcomes = _under_load(service, moderator, freeze_and_thaw)
    _check_answers(outcomes, service)
    _check_writes(outcomes, database)
    # Requests sent while the database was frozen were answered before it came back.
    during = [
        o
        for o in outcomes
        if window["frozen"] + 0.5 < o.started < window["thawed"] - BOUND_S and o.path != "/readyz"
    ]
    assert len(during) >= 8
    assert all(o.status == 503 and o.ended < window["thawed"] for o in during), [
        (o.status, round(o.seconds, 1)) for o in during
    ]


def test_a_statement_past_its_timeout_gives_503_not_a_hang(service, database):
    with database.connect() as connection:
        connection.execute(text("LOCK TABLE actors IN ACCESS EXCLUSIVE MODE"))
        blocked = request(service, "GET", "/api/v1/actors?limit=5")
        connection.rollback()
    assert blocked.status == 503
    assert blocked.seconds < STATEMENT_TIMEOUT_MS / 1000 + WATCHDOG_MARGIN_S + 3
    assert blocked.headers["retry-after"] == "2"
    assert "statement timeout" in service.log_text()
    assert request(service, "GET", "/api/v1/actors?limit=5").status == 200
