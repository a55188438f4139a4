"""Read routing: anonymous reads go to a streaming replica, everything else to the primary.

The rule, in one place (``route``):

- A request reads from a replica only when it is a safe method (GET, HEAD, OPTIONS)
  without credentials (``api.auth.carries_credentials``: a bearer token or the web pages'
  sign-in). Signed-in reads write too (a token's last use, the exact-location
  access log of ``api.privacy``), so they stay on the primary, as every write does.
- **Read your writes, by LSN.** After a successful write the primary's WAL position
  (``pg_current_wal_lsn()``) goes back to the client in the ``peacemap_lsn`` cookie; a read
  carrying it uses a replica only once that replica has replayed past it
  (``pg_last_wal_replay_lsn()``), so a client that just wrote reads what it wrote, and
  nobody else waits for anything.
- **Bounded staleness.** A replica further behind than ``REPLICA_MAX_LAG_SECONDS``, or not
  answering, is left out; reads then go to the primary without an error.
- **Fall back mid-request.** A replica that fails during a request (stopped, cut off) or
  refuses a write it was not meant to get is marked down, and the view runs again on the
  primary (``dispatch_with_fallback``): a read is safe to repeat.

Each worker process watches its replicas from a thread of its own (``Monitor``): once a
second it asks the primary for its WAL position and each replica for what it replayed, so
no request waits on a health check. Lag is 0 when a replica has replayed everything the
primary had written at the last check, otherwise the time since the last transaction it
replayed: an over-estimate after a quiet spell, never an under-estimate.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from dataclasses import dataclass

from flask import current_app, g, has_request_context, request
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from api.auth import carries_credentials

log = logging.getLogger("peacemap")

LSN_COOKIE = "peacemap_lsn"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CHECK_SECONDS = 1.0
_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")

ROUTES = Counter(
    "peacemap_db_route",
    "Requests that used the database, by the engine that served them (primary or replica) "
    "and why: write, signed_in (signed-in reads write too), replica, no_replica (none "
    "configured), replica_down, replica_lagging, read_your_writes (the replicas have not "
    "replayed the client's last write yet), fallback (a replica failed mid-request).",
    ["engine", "reason"],
)
REPLICA_LAG = Gauge(
    "peacemap_db_replica_lag_seconds",
    "How far each replica is behind the primary, as last checked (the largest figure of "
    "the live worker processes).",
    ["replica"],
    multiprocess_mode="livemax",
)
REPLICA_UP = Gauge(
    "peacemap_db_replica_up",
    "1 when the replica answered its last check and is replaying the primary's WAL "
    "(the smallest figure of the live worker processes).",
    ["replica"],
    multiprocess_mode="livemin",
)


def parse_lsn(value: str | None) -> int | None:
    """A PostgreSQL LSN ('16/B374D848') as a number, or None when it is not one."""
    found = _LSN.fullmatch(value or "")
    return (int(found[1], 16) << 32) + int(found[2], 16) if found else None


@dataclass
class Replica:
    name: str  # host:port, for metrics and logs (never the URL: it may hold a password)
    engine: Engine
    up: bool = False
    replayed: int = 0  # the LSN replayed at the last check
    lag_seconds: float = float("inf")

    def mark_down(self) -> None:
        self.up = False
        REPLICA_UP.labels(self.name).set(0)


@dataclass(frozen=True)
class Route:
    engine: Engine
    reason: str
    replica: Replica | None = None


class Monitor:
    """Checks the replicas once a second, from a thread of each worker process's own."""

    def __init__(self, primary: Engine, replicas: list[Replica], max_lag: float) -> None:
        self.primary = primary
        self.replicas = replicas
        self.max_lag = max_lag
        self._pid: int | None = None
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (gunicorn forks)
                self.check()  # the first requests already know where to go
                self._pid = os.getpid()
                threading.Thread(target=self._watch, name="db-replicas", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(CHECK_SECONDS)
            try:
                self.check()
            except Exception:  # a bug here must not stop the checks for good
                log.exception("checking the replicas failed")

    def check(self) -> None:
        try:
            with self.primary.connect() as connection:
                written, primary_now = connection.execute(
                    text("SELECT pg_current_wal_lsn()::text, now()")
                ).one()
            written = parse_lsn(written)
        except DBAPIError:
            written = primary_now = None  # lag unknown: keep the last figures
        for replica in self.replicas:
            self._check(replica, written, primary_now)

    def _check(self, replica: Replica, written, primary_now) -> None:
        try:
            with replica.engine.connect() as connection:
                recovering, replayed, replayed_at = connection.execute(
                    text(
                        "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
                        "pg_last_xact_replay_timestamp()"
                    )
                ).one()
        except DBAPIError as exc:
            if replica.up:
                log.warning("replica %s is not answering: %s", replica.name, _first_line(exc))
            replica.mark_down()
            return
        if not recovering:  # promoted: no longer follows this primary
            if replica.up:
                log.warning("replica %s is not in recovery: left out", replica.name)
            replica.mark_down()
            return
        replica.replayed = parse_lsn(replayed) or 0
        if written is not None:
            if replica.replayed >= written:
                replica.lag_seconds = 0.0
            elif replayed_at is None:
                replica.lag_seconds = float("inf")
            else:
                replica.lag_seconds = max((primary_now - replayed_at).total_seconds(), 0.0)
        replica.up = True
        REPLICA_UP.labels(replica.name).set(1)
        REPLICA_LAG.labels(replica.name).set(replica.lag_seconds)

    def choose(self, client_lsn: int | None) -> Route:
        self.ensure_running()
        answering = [r for r in self.replicas if r.up]
        if not answering:
            return Route(self.primary, "replica_down")
        fresh = [r for r in answering if r.lag_seconds <= self.max_lag]
        if not fresh:
            return Route(self.primary, "replica_lagging")
        if client_lsn is not None:
            fresh = [r for r in fresh if r.replayed >= client_lsn]
            if not fresh:
                return Route(self.primary, "read_your_writes")
        replica = random.choice(fresh)
        return Route(replica.engine, "replica", replica)


def init_app(app, primary: Engine, make_engine) -> None:
    """Engines for PEACEMAP_REPLICA_URLS (made by ``make_engine``, as the primary's)."""
    replicas = [
        Replica(f"{make_url(url).host}:{make_url(url).port or 5432}", make_engine(url))
        for url in app.config["REPLICA_URLS"]
    ]
    app.extensions["peacemap_replicas"] = (
        Monitor(primary, replicas, app.config["REPLICA_MAX_LAG_SECONDS"]) if replicas else None
    )


def _monitor() -> Monitor | None:
    return current_app.extensions.get("peacemap_replicas")


def route() -> Route | None:
    """The engine this request's session uses (decided once per request), or None outside a
    request or where no replica is configured (the session's own bind)."""
    if not has_request_context():
        return None
    if "db_route" not in g:
        monitor = _monitor()
        if monitor is None:
            g.db_route = None
            ROUTES.labels("primary", "no_replica").inc()
            return None
        if request.method not in SAFE_METHODS:
            chosen = Route(monitor.primary, "write")
        elif carries_credentials():
            chosen = Route(monitor.primary, "signed_in")
        else:
            chosen = monitor.choose(parse_lsn(request.cookies.get(LSN_COOKIE)))
        g.db_route = chosen
        ROUTES.labels("replica" if chosen.replica else "primary", chosen.reason).inc()
    return g.db_route


def serving_from_replica() -> bool:
    chosen = g.get("db_route")
    return chosen is not None and chosen.replica is not None


def dispatch_with_fallback(dispatch):
    """Run the view; when the replica it read from fails (or refuses a write), run it again
    on the primary."""
    from api.db import db
    from api.errors import is_database_unavailable

    try:
        return dispatch()
    except DBAPIError as exc:
        if not serving_from_replica():
            raise
        read_only = getattr(exc.orig, "pgcode", None) == "25006"  # read_only_sql_transaction
        if not (read_only or is_database_unavailable(exc)):
            raise
        chosen = g.db_route
        if read_only:
            log.warning("%s wrote on a replica: runs again on the primary", request.endpoint)
        else:
            log.warning("replica %s failed mid-request: %s", chosen.replica.name, _first_line(exc))
            chosen.replica.mark_down()
        db.session.remove()
        g.db_route = Route(_monitor().primary, "fallback")
        ROUTES.labels("primary", "fallback").inc()
        return dispatch()


def remember_write(session, response) -> None:
    """After a committed write: the primary's WAL position, for the client's next reads."""
    if _monitor() is None or request.method in SAFE_METHODS:
        return
    try:
        lsn = session.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
        session.rollback()  # nothing to keep: end the transaction that read it
    except DBAPIError as exc:  # the write is saved; only this client's next read may lag
        log.warning("no WAL position after a write: %s", _first_line(exc))
        return
    max_age = max(60, int(6 * current_app.config["REPLICA_MAX_LAG_SECONDS"]))
    response.set_cookie(
        LSN_COOKIE,
        lsn,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
