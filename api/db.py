"""The database: engine, the request-scoped session and the declarative base.

The request owns the transaction: service functions only ``flush()``; the request
boundary (``api.http``) commits once when the response is a success and rolls back
otherwise; the session is removed when the app context ends.

No request waits on the database for ever: connecting is bounded by ``connect_timeout``,
each statement by the server's ``statement_timeout``, and a server that stops answering
altogether (frozen, or cut off without a TCP reset, where the server's own timeout cannot
fire) by a watchdog that cuts the connection once a call has waited longer than the
statement timeout plus a margin. The caller then gets an error that ``api.errors`` turns
into 503 with Retry-After.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager

import psycopg2.extensions
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Watchdog:
    """Cuts (shuts down the socket of) connections whose current call has waited past its
    deadline. The blocked call then fails at once with "server closed the connection",
    which SQLAlchemy treats as a disconnect. Works in every psycopg2 mode, COPY included."""

    TICK_SECONDS = 0.1

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadlines: dict[int, tuple[float, int]] = {}  # id(connection) -> (deadline, fd)
        self._pid: int | None = None

    def arm(self, connection, seconds: float) -> None:
        with self._lock:
            self._deadlines[id(connection)] = (time.monotonic() + seconds, connection.fileno())
            if self._pid != os.getpid():  # first use in this process (gunicorn forks)
                self._pid = os.getpid()
                threading.Thread(target=self._watch, name="db-watchdog", daemon=True).start()

    def disarm(self, connection) -> None:
        with self._lock:
            self._deadlines.pop(id(connection), None)

    def _watch(self) -> None:
        while True:
            time.sleep(self.TICK_SECONDS)
            now = time.monotonic()
            with self._lock:
                expired = [key for key, (at, _) in self._deadlines.items() if at <= now]
                for key in expired:
                    _, fd = self._deadlines.pop(key)
                    _shut_down(fd)


def _shut_down(fd: int) -> None:
    try:
        # A duplicate of the descriptor: shutdown acts on the socket itself, close on the dup.
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing is waiting on it


watchdog = Watchdog()


class WatchedCursor(psycopg2.extensions.cursor):
    """Every call that waits for the server runs under the connection's deadline."""

    def _guarded(self, method, *args, **kwargs):
        seconds = self.connection.deadline_seconds
        if seconds is None:
            return method(*args, **kwargs)
        watchdog.arm(self.connection, seconds)
        try:
            return method(*args, **kwargs)
        finally:
            watchdog.disarm(self.connection)

    def execute(self, *args, **kwargs):
        return self._guarded(super().execute, *args, **kwargs)

    def executemany(self, *args, **kwargs):
        return self._guarded(super().executemany, *args, **kwargs)

    def copy_expert(self, *args, **kwargs):
        return self._guarded(super().copy_expert, *args, **kwargs)

    # Server-side cursors (streamed exports) wait on the server at each fetch.
    def fetchone(self):
        return self._guarded(super().fetchone) if self.name else super().fetchone()

    def fetchmany(self, *args, **kwargs):
        if self.name:
            return self._guarded(super().fetchmany, *args, **kwargs)
        return super().fetchmany(*args, **kwargs)

    def fetchall(self):
        return self._guarded(super().fetchall) if self.name else super().fetchall()


class WatchedConnection(psycopg2.extensions.connection):
    """A psycopg2 connection whose waits on the server are bounded (see Watchdog)."""

    deadline_seconds: float | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cursor_factory = WatchedCursor

    def _guarded(self, method):
        if self.deadline_seconds is None:
            return method()
        watchdog.arm(self, self.deadline_seconds)
        try:
            return method()
        finally:
            watchdog.disarm(self)

    def commit(self):
        return self._guarded(super().commit)

    def rollback(self):
        return self._guarded(super().rollback)


def _watched_connection_factory(deadline_seconds: float):
    class Connection(WatchedConnection):
        pass

    Connection.deadline_seconds = deadline_seconds
    return Connection


@contextmanager
def long_running(connection: Connection):
    """Lift the statement timeout and the watchdog on one connection, for commands that
    legitimately take minutes (bulk loads); the request path never uses this. The
    connection leaves the pool, so its settings never reach a request."""
    connection.detach()
    connection.connection.dbapi_connection.deadline_seconds = None
    connection.exec_driver_sql("SET statement_timeout = 0")
    yield connection


class RoutingSession(Session):
    """A session whose reads may go to a replica (api.replicas decides, per request)."""

    def get_bind(self, *args, **kwargs):
        from api.replicas import route

        chosen = route()
        return chosen.engine if chosen is not None else super().get_bind(*args, **kwargs)


class Database:
    """Holds the engines (the primary's, the replicas') and a thread-scoped session factory
    for one app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory = sessionmaker(class_=RoutingSession, expire_on_commit=False)
        self.session: scoped_session[Session] = scoped_session(self.factory)

    def init_app(self, app) -> None:
        from api import replicas

        self.engine = self._make_engine(app, app.config["DATABASE_URL"])
        self.factory.configure(bind=self.engine)
        replicas.init_app(app, self.engine, lambda url: self._make_engine(app, url))
        app.extensions["peacemap_db"] = self

        @app.teardown_appcontext
        def remove_session(_exc=None):
            self.session.remove()

    @staticmethod
    def _make_engine(app, url: str) -> Engine:
        statement_ms = app.config["DB_STATEMENT_TIMEOUT_MS"]
        # The server cancels a statement at statement_timeout; the watchdog waits a little
        # longer, so it only fires when the server cannot answer at all.
        deadline = statement_ms / 1000 + app.config["DB_WATCHDOG_MARGIN_SECONDS"]
        return create_engine(
            url,
            # No ping before each checkout: it costs a round trip per request. Connections
            # are recycled instead; one broken by a database restart fails once (503) and
            # the pool then replaces all connections older than the failure.
            pool_recycle=1800,
            pool_size=5,
            max_overflow=5,
            # When every connection is taken (the database is slow), wait this long, then 503.
            pool_timeout=app.config["DB_POOL_TIMEOUT_SECONDS"],
            connect_args={
                # The session's statements see UTC timestamps whatever the server's zone.
                "options": f"-c timezone=UTC -c statement_timeout={statement_ms}",
                "connect_timeout": app.config["DB_CONNECT_TIMEOUT_SECONDS"],
                "connection_factory": _watched_connection_factory(deadline),
            },
        )


db = Database()
