"""The database: engine, the request-scoped session and the declarative base.

The request owns the transaction: service functions only ``flush()``; the request
boundary (``api.http``) commits once when the response is a success and rolls back
otherwise; the session is removed when the app context ends.
"""

from __future__ import annotations

from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine
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


class Database:
    """Holds the engine and a thread-scoped session factory for one app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory = sessionmaker(expire_on_commit=False)
        self.session: scoped_session[Session] = scoped_session(self.factory)

    def init_app(self, app) -> None:
        self.engine = create_engine(
            app.config["DATABASE_URL"],
            # No ping before each checkout: it costs a round trip per request. Connections
            # are recycled instead, and one broken by a database restart fails once.
            pool_recycle=1800,
            pool_size=5,
            max_overflow=5,
            # The session's statements see UTC timestamps whatever the server's zone.
            connect_args={"options": "-c timezone=UTC"},
        )
        self.factory.configure(bind=self.engine)
        app.extensions["peacemap_db"] = self

        @app.teardown_appcontext
        def remove_session(_exc=None):
            self.session.remove()


db = Database()
