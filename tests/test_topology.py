"""Peacemap scaled out, as `make topology` starts it (scripts/topology.sh): the primary, a
streaming replica, two gunicorn instances and nginx in front. Clients go through nginx; the
replica is paused (lag) and stopped under load, and every client still gets its answers,
a client that just wrote reads what it wrote, and /metrics tells which engine served.

Slow (a replica is copied, two servers start): `make test-topology` runs these."""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from api.replicas import LSN_COOKIE
from tests.conftest import DATA_KEY
from tests.servers import (
    OFFSET,
    ROOT,
    Load,
    Server,
    database_of_its_own,
    moderator_headers,
    new_actor,
    request,
)

pytestmark = pytest.mark.topology

SECRET_KEY = "topology-test-secret-0123456789abcdefghijk"
METRICS_TOKEN = "topology-test-scraper-secret"
MAX_LAG_S = 10
REPLICA_PORT = 54429 + OFFSET
GUNICORN_PORTS = (58000 + OFFSET, 58001 + OFFSET)
NGINX = Server("127.0.0.1", 58080 + OFFSET, ROOT / ".topology-test" / "nginx-error.log")


@pytest.fixture(scope="module")
def database(database_urls):
    """A database of the topology's own on the test cluster, so on the replica too."""
    return database_of_its_own(database_urls, "topology")


def _superuser(url: str, port: int):
    """A superuser engine on ``url``'s database, on the given port (primary or replica)."""
    admin = make_url(url).set(username="postgres", password=None, port=port)
    return create_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="module")
def primary(database):
    engine = _superuser(database["DATABASE_URL"], make_url(database["DATABASE_URL"]).port)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def replica(database, topology):
    engine = _superuser(database["DATABASE_URL"], REPLICA_PORT)
    yield engine
    with engine.connect() as connection:  # never leave a paused replica behind
        if connection.scalar(text("SELECT pg_is_wal_replay_paused()")):
            connection.execute(text("SELECT pg_wal_replay_resume()"))
    engine.dispose()


@pytest.fixture(scope="module")
def moderator(primary):
    return moderator_headers(primary, SECRET_KEY)


def _topology_sh(command: str, env: dict) -> None:
    subprocess.run([str(ROOT / "scripts/topology.sh"), command], env=env, check=True)


@pytest.fixture(scope="module")
def topology(database):
    env = {
        **os.environ,
        "DATABASE_URL": database["DATABASE_URL"],
        "PEACEMAP_MIGRATION_DATABASE_URL": database["MIGRATION_DATABASE_URL"],
        "PEACEMAP_SECRET_KEY": SECRET_KEY,
        "PEACEMAP_DATA_KEY": DATA_KEY,  # the key the test run sealed its rows with
        "PEACEMAP_METRICS_TOKEN": METRICS_TOKEN,
        "PEACEMAP_RATELIMIT_ENABLED": "false",
        "PEACEMAP_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG_S),
        "PEACEMAP_PROD_DIR": str(ROOT / ".topology-test"),
        "PEACEMAP_WORKERS": "1",
        "PEACEMAP_THREADS": "6",
    }
    _topology_sh("start", env)
    try:
        yield NGINX
    finally:
        _topology_sh("stop", env)


def _write(topology, moderator, name: str | None = None):
    """A published actor created through nginx; returns (its id, the LSN cookie)."""
    created = request(
        topology,
        "POST",
        "/api/v1/actors",
        new_actor(name or f"topo-{uuid.uuid4().hex}"),
        moderator,
    )
    assert created.status == 201, created.body
    cookie = re.search(
        rf"{LSN_COOKIE}=([0-9A-F]+/[0-9A-F]+)", created.headers.get("set-cookie", "")
    )
    assert cookie, created.headers
    return created.json()["id"], f"{LSN_COOKIE}={cookie[1]}"


def _wait_for_replay(primary, replica, within: float = 30) -> None:
    """Until the replica has replayed everything the primary has written."""
    with primary.connect() as connection:
        written = connection.scalar(text("SELECT pg_current_wal_lsn()"))
    deadline = time.monotonic() + within
    with replica.connect() as connection:
        while not connection.scalar(
            text("SELECT pg_last_wal_replay_lsn() >= CAST(:w AS pg_lsn)"), {"w": written}
        ):
            assert time.monotonic() < deadline, "the replica does not catch up"
            time.sleep(0.2)


def _metrics(port: int) -> dict[str, float]:
    """One instance's figures (each gunicorn instance has its own)."""
    scraped = request(
        Server("127.0.0.1", port, NGINX.log),
        "GET",
        "/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
    )
    assert scraped.status == 200, scraped.body
    figures = {}
    for line in scraped.body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            figures[name] = float(value)
    return figures


def _routed(port: int, engine: str, reason: str) -> float:
    key = f'peacemap_db_route_total{{engine="{engine}",reason="{reason}"}}'
    return _metrics(port).get(key, 0.0)


def _on_every_instance(path: str, headers=None):
    return [
        request(Server("127.0.0.1", port, NGINX.log), "GET", path, headers=headers)
        for port in GUNICORN_PORTS
    ]


def _replay(replica, action: str) -> None:
    with replica.connect() as connection:
        connection.execute(text(f"SELECT pg_wal_replay_{action}()"))


def test_a_client_reads_its_own_write_while_others_read_the_replica(
    topology, moderator, primary, replica
):
    _write(topology, moderator, "warm-up")
    _wait_for_replay(primary, replica)
    _on_every_instance("/api/v1/actors?limit=1")  # each instance has checked its replica
    served_before = sum(_routed(port, "replica", "replica") for port in GUNICORN_PORTS)
    _replay(replica, "pause")
    try:
        actor_id, cookie = _write(topology, moderator)
        # The writer, anonymous now, on both instances: its cookie sends it to the primary.
        for answer in _on_every_instance(f"/api/v1/actors/{actor_id}", {"Cookie": cookie}):
            assert answer.status == 200, answer.body
        # Signed-in reads (which write too) use the primary.
        for answer in _on_every_instance(f"/api/v1/actors/{actor_id}", moderator):
            assert answer.status == 200, answer.body
        # Anybody else reads the replica, which has not replayed the write yet; a garbled
        # cookie counts as none, a forged one sends only its sender to the primary.
        for cookie_sent in ({}, {"Cookie": f"{LSN_COOKIE}=x'; DROP TABLE actors;--"}):
            for answer in _on_every_instance(f"/api/v1/actors/{actor_id}", cookie_sent):
                assert answer.status == 404, answer.body
        forged = {"Cookie": f"{LSN_COOKIE}=FFFFFFFF/FFFFFFFF"}
        for answer in _on_every_instance(f"/api/v1/actors/{actor_id}", forged):
            assert answer.status == 200, answer.body
        assert sum(_routed(port, "primary", "read_your_writes") for port in GUNICORN_PORTS) >= 2
        assert sum(_routed(port, "replica", "replica") for port in GUNICORN_PORTS) > served_before
    finally:
        _replay(replica, "resume")
    _wait_for_replay(primary, replica)
    deadline = time.monotonic() + 10
    while any(a.status != 200 for a in _on_every_instance(f"/api/v1/actors/{actor_id}")):
        assert time.monotonic() < deadline, "the replica's copy never shows the write"
        time.sleep(0.5)


def test_reads_leave_a_replica_that_lags_beyond_the_bound(topology, moderator, primary, replica):
    _wait_for_replay(primary, replica)
    _replay(replica, "pause")
    try:
        actor_id, _ = _write(topology, moderator)
        written = time.monotonic()
        # Within the bound plus a check (1 s) and some slack, every reader sees the write,
        # from the primary, while the replica still has not replayed it.
        while any(a.status != 200 for a in _on_every_instance(f"/api/v1/actors/{actor_id}")):
            assert time.monotonic() - written < MAX_LAG_S + 5, "reads never left the replica"
            time.sleep(0.5)
        for _ in range(5):
            for answer in _on_every_instance(f"/api/v1/actors/{actor_id}"):
                assert answer.status == 200, answer.body
        with replica.connect() as connection:
            assert connection.scalar(text("SELECT pg_is_wal_replay_paused()"))
            assert (
                connection.scalar(
                    text("SELECT count(*) FROM actors WHERE id = :id"), {"id": actor_id}
                )
                == 0
            )
        for port in GUNICORN_PORTS:
            figures = _metrics(port)
            lag = figures[f'peacemap_db_replica_lag_seconds{{replica="127.0.0.1:{REPLICA_PORT}"}}']
            assert lag > MAX_LAG_S
            assert figures['peacemap_db_route_total{engine="primary",reason="replica_lagging"}'] > 0
    finally:
        _replay(replica, "resume")


def test_a_hidden_actor_leaves_every_anonymous_read_within_the_lag_bound(
    topology, moderator, primary, replica
):
    actor_id, _ = _write(topology, moderator)
    _wait_for_replay(primary, replica)
    path = f"/api/v1/actors/{actor_id}"
    assert all(a.status == 200 for a in _on_every_instance(path))
    _replay(replica, "pause")
    try:
        hidden = request(
            topology,
            "POST",
            f"/api/v1/moderation/items/actor/{actor_id}/hide",
            {"reason": "someone is in danger"},
            moderator,
        )
        assert hidden.status == 204, hidden.body
        hidden_at = time.monotonic()
        # The replica still shows the actor; within the bound (and a check) nobody does.
        while any(a.status != 404 for a in _on_every_instance(path)):
            assert time.monotonic() - hidden_at < MAX_LAG_S + 5, "a stale replica shows it"
            time.sleep(0.5)
        for _ in range(5):
            assert all(a.status == 404 for a in _on_every_instance(path))
        with replica.connect() as connection:
            assert connection.scalar(text("SELECT pg_is_wal_replay_paused()"))
    finally:
        _replay(replica, "resume")


def test_a_replica_stopped_under_load_costs_no_client_an_error(
    topology, moderator, primary, replica
):
    _wait_for_replay(primary, replica)
    actor_id, _ = _write(topology, moderator)
    _wait_for_replay(primary, replica)
    replica_env = {
        **os.environ,
        "PEACEMAP_PG_DATA": str(ROOT / ".pgreplica"),
        "PEACEMAP_PG_PORT": str(REPLICA_PORT),
        "PEACEMAP_PG_ARCHIVE": "",
    }
    paths = ["/api/v1/actors?limit=5", f"/api/v1/actors/{actor_id}", "/api/v1/themes"]
    load = Load()
    for path in paths:
        load.add(2, lambda path=path: request(topology, "GET", path), pause=0.02)
    load.add(
        1,
        lambda: request(
            topology, "POST", "/api/v1/actors", new_actor(f"load-{uuid.uuid4().hex}"), moderator
        ),
        pause=0.1,
    )
    with load:
        time.sleep(2)
        subprocess.run([str(ROOT / "scripts/db.sh"), "stop", "fast"], env=replica_env, check=True)
        time.sleep(4)
        subprocess.run([str(ROOT / "scripts/db.sh"), "start"], env=replica_env, check=True)
        time.sleep(3)
    failed = [
        (o.method, o.path, o.status, o.body[:200])
        for o in load.outcomes
        if o.status >= 400 or o.status == 0
    ]
    assert not failed, failed
    reads = [o for o in load.outcomes if o.method == "GET"]
    assert len(reads) > 50
    assert sum(_routed(port, "primary", "replica_down") for port in GUNICORN_PORTS) > 0
    # Back: the replica serves reads again.
    deadline = time.monotonic() + 15
    before = sum(_routed(port, "replica", "replica") for port in GUNICORN_PORTS)
    while sum(_routed(port, "replica", "replica") for port in GUNICORN_PORTS) <= before:
        assert time.monotonic() < deadline, "reads never came back to the replica"
        _on_every_instance("/api/v1/actors?limit=1")
        time.sleep(0.5)


def test_a_read_that_writes_on_a_replica_runs_again_on_the_primary(
    database, topology, primary, replica
):
    """The safety net for a GET that writes (none should): the replica refuses the write,
    and the view runs again on the primary instead of failing."""
    from api import create_app
    from api.db import db

    replica_url = make_url(database["DATABASE_URL"]).set(port=REPLICA_PORT)
    app = create_app(
        {
            **database,
            "REPLICA_URLS": [replica_url.render_as_string(hide_password=False)],
            "SECRET_KEY": SECRET_KEY,
            "DATA_KEY": DATA_KEY,
            "RATELIMIT_ENABLED": False,
        }
    )
    in_recovery = []

    def writes_on_a_get():
        in_recovery.append(db.session.scalar(text("SELECT pg_is_in_recovery()")))
        db.session.execute(text("UPDATE actors SET name = name WHERE false"))
        return {"written": True}

    app.add_url_rule("/test/writes-on-a-get", view_func=writes_on_a_get)
    _wait_for_replay(primary, replica)
    answer = app.test_client().get("/test/writes-on-a-get")
    assert answer.status_code == 200, answer.text
    assert in_recovery == [True, False]  # first on the replica, then on the primary
