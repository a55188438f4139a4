"""Create the database when missing and run Alembic migrations (CLI and test fixtures)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    return config


def ensure_database(url: str, *, recreate: bool = False) -> None:
    """Create the database named in ``url`` if it does not exist (or anew)."""
    target = make_url(url)
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            name = target.database
            if recreate:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    ensure_database(url)
    command.upgrade(alembic_config(url), revision)
