"""Alembic environment: the database URL comes from the caller (api.migrate) or from
DATABASE_URL, never from alembic.ini."""

from alembic import context
from sqlalchemy import create_engine

from api import crypto
from api.config import from_environment
from api.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # PostGIS and its extensions own tables of their own (spatial_ref_sys, topology…).
    return not (type_ == "table" and reflected and compare_to is None)


def _install_keyring() -> None:
    # Data migrations seal and open private values: the app's keyring, or the environment's.
    if crypto.installed() is None:
        crypto.install(crypto.keyring_from_config(from_environment()))


def run_migrations_online() -> None:
    _install_keyring()
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("url") or from_environment()["MIGRATION_DATABASE_URL"]
    engine = create_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
