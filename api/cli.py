"""Flask CLI commands: ``flask --app wsgi db upgrade``, ``flask --app wsgi seeds …``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from marshmallow import ValidationError
from sqlalchemy import create_engine

from api import crypto, migrate
from api.accounts.schemas import RegisterSchema
from api.accounts.service import register
from api.db import db, long_running
from api.errors import ProblemError
from api.models import Base
from api.principal import ANONYMOUS
from seeds.bulk import load_rows, read_csv
from seeds.demo import load_demo, load_demo_accounts
from seeds.synthetic import generate

db_cli = AppGroup("db", help="Database schema.")
users_cli = AppGroup("users", help="Accounts.")
seeds_cli = AppGroup("seeds", help="Demo and synthetic data.")
keys_cli = AppGroup("keys", help="Data keys: exact locations and contacts are sealed with them.")
privacy_cli = AppGroup("privacy", help="Location safety.")
CLUSTER_FROM_ROWS = 100_000


@db_cli.command("upgrade")
def db_upgrade():
    """Apply the migrations that are missing (as the tables' owner), then grant the
    service's role its least privilege."""
    config = current_app.config
    if config["ENV_NAME"] == "production" and migrate.same_role(
        config["MIGRATION_DATABASE_URL"], config["DATABASE_URL"]
    ):
        raise click.UsageError(
            "In production the service must not connect as the owner of its tables: set "
            "PEACEMAP_MIGRATION_DATABASE_URL to the owner's URL and DATABASE_URL to a role "
            "with least privilege (README, Production)."
        )
    try:
        migrate.upgrade(
            config["MIGRATION_DATABASE_URL"],
            app_url=config["DATABASE_URL"],
            admin_url=config["ADMIN_DATABASE_URL"],
        )
    except migrate.TooPrivileged as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Database schema is up to date.")


@privacy_cli.command("regeneralise")
def privacy_regeneralise():
    """Recompute every public location under the current generalisation rules."""
    from api.actors.models import Actor
    from api.content import regeneralise
    from api.observations.models import Observation
    from api.resources.service import regeneralise_resource_areas

    for name, model in (("actors", Actor), ("observations", Observation)):
        moved = regeneralise(db.session, model)
        db.session.commit()
        click.echo(f"{name}: {moved} public locations moved.")
    regeneralise_resource_areas(db.session)
    db.session.commit()
    click.echo("resources: areas generalised to their authors' precisions.")


@seeds_cli.command("demo")
def seeds_demo():
    """Load the demo map (idempotent)."""
    created = load_demo(db.session)
    accounts = load_demo_accounts(
        db.session, production=current_app.config["ENV_NAME"] == "production"
    )
    db.session.commit()
    click.echo(f"Demo data loaded: {created} actors and {accounts} accounts created.")


def _bulk(rows, expected: int | None) -> None:
    started = time.perf_counter()

    def progress(done: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        of = f" of {expected:,}" if expected else ""
        click.echo(f"  {done:,}{of} rows ({rate:,.0f} rows/s)", err=True)

    with db.engine.connect() as connection, long_running(connection):
        loaded = load_rows(connection.connection.dbapi_connection, rows, progress=progress)
        connection.commit()
    # Maintenance is the owner's: the service's role may not reorder or analyse tables.
    owner = create_engine(current_app.config["MIGRATION_DATABASE_URL"])
    try:
        with owner.connect() as connection:
            if loaded >= CLUSTER_FROM_ROWS:
                # Rows arrive in random spatial order; laying the table out along the spatial
                # index makes map queries read a few pages instead of one page per row.
                click.echo("Ordering the table by location (CLUSTER)...", err=True)
                connection.exec_driver_sql("CLUSTER actors USING ix_actors_public_location")
            connection.exec_driver_sql("ANALYZE actors")
            connection.commit()
    finally:
        owner.dispose()
    click.echo(f"Loaded {loaded:,} rows in {time.perf_counter() - started:.1f} s.")


@seeds_cli.command("synthetic")
@click.option("--count", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--seed", type=int, default=20240601, show_default=True)
def seeds_synthetic(count: int, seed: int):
    """Generate COUNT synthetic published actors and bulk-load them (deterministic)."""
    _bulk(generate(count, seed), count)


@seeds_cli.command("import-csv")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def seeds_import_csv(path: Path):
    """Bulk-load actors from a CSV (id,name,kind,themes,country,lon,lat[,location_precision])."""
    _bulk(read_csv(path), None)


@users_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True, help="Display name")
@click.password_option(
    help="Prompted for when not given (preferred: it stays out of shell history)"
)
def users_create_admin(email: str, display_name: str, password: str):
    """Create an administrator account (the first one, or another)."""
    try:
        data = RegisterSchema().load(
            {"email": email, "display_name": display_name, "password": password}
        )
        user = register(db.session, data, ANONYMOUS, role="admin", verified=True)
    except ValidationError as exc:
        raise click.UsageError(str(exc.messages)) from None
    except ProblemError as exc:
        raise click.UsageError(exc.detail) from None
    db.session.commit()
    click.echo(f"Administrator {user.email} created (id {user.id}).")


@keys_cli.command("generate")
@click.option("--id", "key_id", help="Key id (default: a random one)")
def keys_generate(key_id: str | None):
    """Print a new data key entry for PEACEMAP_DATA_KEY (or a key file)."""
    try:
        click.echo(crypto.generate_key(key_id))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@keys_cli.command("status")
def keys_status():
    """How many sealed values each key seals (read from the stored bytes)."""
    active = crypto.keyring().active
    counts = crypto.key_ids_in_use(db.session, Base.metadata)
    for key_id, count in sorted(counts.items()):
        configured = (
            "active"
            if key_id == active
            else ("configured" if key_id in crypto.keyring().keys else "NOT CONFIGURED")
        )
        click.echo(f"{key_id}: {count:,} sealed values ({configured})")
    if not counts:
        click.echo("No sealed values yet.")


@keys_cli.command("rotate")
def keys_rotate():
    """Seal every sealed value anew under the active (first) key. Put the new key first in
    PEACEMAP_DATA_KEY, keep the old ones after it, run this, then drop the old keys."""
    active = crypto.keyring().active
    started = time.perf_counter()
    done = crypto.reseal_all(db.session, Base.metadata)
    for table, rows in done.items():
        click.echo(f"  {table}: {rows:,} rows sealed anew")
    left = {
        k: n for k, n in crypto.key_ids_in_use(db.session, Base.metadata).items() if k != active
    }
    if left:
        raise click.ClickException(f"Values still sealed under other keys: {left}.")
    click.echo(
        f"Every sealed value is now under key {active!r} ({time.perf_counter() - started:.1f} s); "
        "the old keys can be removed."
    )


@click.command("worker")
@click.option("--concurrency", type=int, default=None, help="Jobs run at once (threads).")
@click.option("--pidfile", type=click.Path(dir_okay=False), help="Write the process id here.")
def worker(concurrency, pidfile):
    """Run the queue's jobs (webhook deliveries, digests) until SIGTERM or SIGINT."""
    from api.webhooks.queue import run_worker

    app = current_app._get_current_object()
    if pidfile:
        Path(pidfile).write_text(f"{os.getpid()}\n")
    try:
        run_worker(app, concurrency=concurrency or app.config["WORKER_CONCURRENCY"])
    finally:
        if pidfile:
            Path(pidfile).unlink(missing_ok=True)


def register_commands(app: Flask) -> None:
    app.cli.add_command(worker)
    app.cli.add_command(keys_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(seeds_cli)
    app.cli.add_command(privacy_cli)
