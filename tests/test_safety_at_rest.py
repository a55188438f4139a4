"""A database dump alone reveals no protected person (issue 9).

The promises, each tried here as an attacker would:

1. Least privilege. The service connects as a role that is no superuser and owns no
   table; it may INSERT into the append-only logs (audit, moderation, exact-location
   access) but not UPDATE, DELETE or TRUNCATE them, and cannot switch their triggers off
   (neither ``ALTER TABLE ... DISABLE TRIGGER`` nor ``session_replication_role``).
   Migrations run as the owner of the tables. So an SQL injection or a stolen service
   password cannot erase what staff did.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from api import create_app
from api.migrate import same_role

APPEND_ONLY_LOGS = ("audit_log", "moderation_log", "location_access_log")
ROW_OF = {
    "audit_log": "(event) VALUES ('test')",
    "moderation_log": "(action) VALUES ('test')",
    "location_access_log": "(user_id, actor_id) VALUES (gen_random_uuid(), gen_random_uuid())",
}


@pytest.fixture
def separate_roles(database_urls):
    if same_role(database_urls["DATABASE_URL"], database_urls["MIGRATION_DATABASE_URL"]):
        pytest.skip("TEST_DATABASE_URL names one role for the service and the migrations")
    return database_urls


def refused(connection, statement: str) -> str:
    """Run ``statement`` as the service's role in a savepoint; the database's refusal."""
    savepoint = connection.begin_nested()
    try:
        connection.execute(text(statement))
    except DBAPIError as exc:
        savepoint.rollback()
        return str(exc.orig)
    savepoint.rollback()
    pytest.fail(f"The service's role was allowed to run: {statement}")


# -- 1. least privilege ---------------------------------------------------------------------


def test_service_role_is_no_superuser_and_owns_nothing(separate_roles, connection):
    role = connection.scalar(text("SELECT current_user"))
    assert role == make_url(separate_roles["DATABASE_URL"]).username
    superuser, create_role, create_db = connection.execute(
        text("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r"),
        {"r": role},
    ).one()
    assert not (superuser or create_role or create_db)
    owned = connection.scalars(
        text(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
            "AND pg_has_role(current_user, c.relowner, 'MEMBER')"
        )
    ).all()
    assert owned == []
    assert not connection.scalar(
        text(
            "SELECT pg_has_role(current_user, datdba, 'MEMBER') FROM pg_database "
            "WHERE datname = current_database()"
        )
    )


def test_migrations_ran_as_the_owner_of_the_tables(separate_roles, connection):
    owners = set(
        connection.scalars(
            text(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'spatial_ref_sys'"
            )
        )
    )
    assert owners == {make_url(separate_roles["MIGRATION_DATABASE_URL"]).username}


@pytest.mark.parametrize("table", APPEND_ONLY_LOGS)
def test_service_can_append_to_the_logs(separate_roles, connection, table):
    connection.execute(text(f"INSERT INTO {table} {ROW_OF[table]}"))
    assert connection.scalar(text(f"SELECT count(*) FROM {table}")) >= 1


@pytest.mark.parametrize("table", APPEND_ONLY_LOGS)
@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET id = id", "DELETE FROM {table}", "TRUNCATE {table}"],
)
def test_service_cannot_rewrite_the_logs(separate_roles, connection, table, statement):
    connection.execute(text(f"INSERT INTO {table} {ROW_OF[table]}"))
    # Refused by the privileges, before the trigger (a second line of defence) is reached.
    assert "permission denied for table" in refused(connection, statement.format(table=table))


@pytest.mark.parametrize("table", APPEND_ONLY_LOGS)
def test_service_cannot_switch_the_log_triggers_off(separate_roles, connection, table):
    assert "must be owner" in refused(
        connection, f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"
    )
    assert "must be owner" in refused(connection, f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    assert "must be owner" in refused(connection, f"DROP TRIGGER {table}_append_only ON {table}")
    assert "permission denied" in refused(connection, "SET session_replication_role = replica")


@pytest.mark.parametrize("table", APPEND_ONLY_LOGS)
def test_even_the_owner_cannot_rewrite_the_logs_while_their_trigger_is_on(separate_roles, table):
    owner = create_engine(separate_roles["MIGRATION_DATABASE_URL"], poolclass=NullPool)
    try:
        with owner.connect() as connection:
            for statement in ("UPDATE {table} SET id = id", "DELETE FROM {table}"):
                assert "append-only" in refused(connection, statement.format(table=table))
            connection.rollback()
    finally:
        owner.dispose()


def test_service_cannot_change_the_schema(separate_roles, connection):
    assert "must be owner" in refused(connection, "ALTER TABLE actors ADD COLUMN spy text")
    assert "must be owner" in refused(connection, "DROP TABLE actors")
    assert "permission denied" in refused(connection, "TRUNCATE actors CASCADE")
    assert "permission denied" in refused(connection, "DELETE FROM alembic_version")


def test_production_migrations_refuse_to_make_the_service_the_owner(database_url):
    app = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "x" * 40,
            "DATABASE_URL": database_url,
            "MIGRATION_DATABASE_URL": database_url,
        }
    )
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code != 0
    assert "must not connect as the owner of its tables" in result.output
