"""The restore drill: contributions acknowledged by the service (201) are written, the
cluster is backed up (scripts/backup.sh, `make backup`), more are written, a moment is
noted, more are written, the cluster is destroyed, and the backup is restored to that
moment (`make restore TARGET_TIME=...`): every contribution acknowledged before the
moment is there, none of those after it.

Slow (two clusters, a server, a base backup): `make test-topology` runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from api import migrate
from tests.servers import OFFSET, ROOT, Cluster, gunicorn, moderator_headers, new_actor, request

pytestmark = pytest.mark.topology

SECRET_KEY = "drill-test-secret-key-0123456789abcdefghij"
PORT = 54629 + OFFSET  # the throw-away cluster's port: the drilled one, then the restored one
BACKUPS = ROOT / ".pgdrill-backup"
RESTORED = ROOT / ".pgdrill-restored"


def _remove(path) -> None:
    if path.is_symlink():
        shutil.rmtree(path.resolve(), ignore_errors=True)
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def drilled():
    """A cluster of the drill's own that archives its WAL into BACKUPS/wal, every second."""
    for path in (ROOT / ".pgdrill", BACKUPS, RESTORED):
        _remove(path)
    cluster = Cluster(
        ROOT / ".pgdrill",
        PORT,
        {"PEACEMAP_PG_ARCHIVE": str(BACKUPS / "wal"), "PEACEMAP_PG_ARCHIVE_TIMEOUT": "1"},
    )
    cluster.start()
    migrate.upgrade(cluster.url("peacemap_drill"))
    yield cluster
    cluster.stop("immediate")
    restored = Cluster(RESTORED, PORT)
    if RESTORED.exists():
        restored.stop("immediate")
    for path in (ROOT / ".pgdrill", BACKUPS, RESTORED):
        _remove(path)


def _contribute(server, moderator, label: str, count: int = 4) -> set[str]:
    """``count`` actors written through the service; the names it acknowledged (201)."""
    acknowledged = set()
    for _ in range(count):
        name = f"drill-{label}-{uuid.uuid4().hex[:8]}"
        created = request(server, "POST", "/api/v1/actors", new_actor(name), moderator)
        assert created.status == 201, created.body
        acknowledged.add(name)
    return acknowledged


def _backup_sh(*args: str) -> None:
    env = {
        **os.environ,
        "PEACEMAP_PG_PORT": str(PORT),
        "PEACEMAP_BACKUP_DIR": str(BACKUPS),
        "PEACEMAP_RESTORE_DATA": str(RESTORED),
        "PEACEMAP_RESTORE_PORT": str(PORT),
    }
    subprocess.run([str(ROOT / "scripts/backup.sh"), *args], env=env, check=True)


def _archived(engine) -> None:
    """Until the WAL written so far is in the archive (what archive_timeout bounds)."""
    with engine.connect() as connection:
        segment = connection.scalar(text("SELECT pg_walfile_name(pg_switch_wal())"))
        deadline = time.monotonic() + 60
        while not (BACKUPS / "wal" / segment).resolve().exists():
            assert time.monotonic() < deadline, f"{segment} never archived"
            time.sleep(0.2)


def test_a_restore_to_a_moment_keeps_every_contribution_acknowledged_before_it(drilled):
    engine = create_engine(
        drilled.url("peacemap_drill"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    moderator = moderator_headers(engine, SECRET_KEY)
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": drilled.url("peacemap_drill"),
        "PEACEMAP_SECRET_KEY": SECRET_KEY,
        "PEACEMAP_RATELIMIT_ENABLED": "false",
        "PEACEMAP_ACCESS_LOG": "",
    }
    with gunicorn(env) as server:
        before_backup = _contribute(server, moderator, "before-backup")
        _backup_sh("backup")
        after_backup = _contribute(server, moderator, "after-backup")
        time.sleep(0.5)
        moment = datetime.now(UTC)
        time.sleep(0.5)
        after_moment = _contribute(server, moderator, "after-moment")
        _archived(engine)
    engine.dispose()

    drilled.stop("immediate")  # destroyed: the cluster and everything in its folder
    _remove(ROOT / ".pgdrill")
    _backup_sh("restore", moment.isoformat())

    restored = create_engine(Cluster(RESTORED, PORT).url("peacemap_drill"), poolclass=NullPool)
    with restored.connect() as connection:
        present = set(connection.scalars(text("SELECT name FROM actors WHERE name LIKE 'drill-%'")))
        in_recovery = connection.scalar(text("SELECT pg_is_in_recovery()"))
    restored.dispose()
    assert not in_recovery  # promoted: ready to take writes again
    assert before_backup | after_backup <= present
    assert not present & after_moment
    assert present == before_backup | after_backup
