"""Flask CLI commands: ``flask --app wsgi db upgrade``, ``flask --app wsgi seeds …``."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from api import migrate
from api.db import db

db_cli = AppGroup("db", help="Database schema.")
seeds_cli = AppGroup("seeds", help="Demo and synthetic data.")


@db_cli.command("upgrade")
def db_upgrade():
    """Apply the migrations that are missing."""
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database schema is up to date.")


@seeds_cli.command("demo")
def seeds_demo():
    """Load the demo map (idempotent)."""
    from seeds.demo import load_demo

    created = load_demo(db.session)
    db.session.commit()
    click.echo(f"Demo data loaded: {created} actors created.")


def _bulk(rows, expected: int | None) -> None:
    from seeds.bulk import load_rows

    started = time.perf_counter()

    def progress(done: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        of = f" of {expected:,}" if expected else ""
        click.echo(f"  {done:,}{of} rows ({rate:,.0f} rows/s)", err=True)

    with db.engine.connect() as connection:
        loaded = load_rows(connection.connection.dbapi_connection, rows, progress=progress)
        connection.commit()
        connection.exec_driver_sql("ANALYZE actors")
        connection.commit()
    click.echo(f"Loaded {loaded:,} rows in {time.perf_counter() - started:.1f} s.")


@seeds_cli.command("synthetic")
@click.option("--count", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--seed", type=int, default=20240601, show_default=True)
def seeds_synthetic(count: int, seed: int):
    """Generate COUNT synthetic published actors and bulk-load them (deterministic)."""
    from seeds.synthetic import generate

    _bulk(generate(count, seed), count)


@seeds_cli.command("import-csv")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def seeds_import_csv(path: Path):
    """Bulk-load actors from a CSV (id,name,kind,themes,country,lon,lat[,location_precision])."""
    from seeds.bulk import read_csv

    _bulk(read_csv(path), None)


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(seeds_cli)
