"""Set up the database, run Alembic migrations and grant the service its least privilege
(CLI and test fixtures).

Three roles, three URLs (see api.config.database_urls):

- the **owner** runs the migrations and owns every table, function and type;
- the **app** role is what the service connects as: it reads and writes the tables, may
  only INSERT into the append-only logs (those guarded by the ``refuse_change()``
  trigger), may TRUNCATE nothing and, not being the owner, cannot ALTER a table (so
  cannot disable a trigger); it is no superuser, so cannot set
  ``session_replication_role`` to skip triggers either;
- a **superuser**, for a local cluster only, creates the two roles, the database and the
  extensions (PostGIS is not a trusted extension). In production a DBA does this once
  (README, "Production").
"""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
EXTENSIONS = ("postgis", "pg_trgm")
# The service writes these only through INSERT (their trigger refuses the rest anyway).
APPEND_ONLY_GUARD = "refuse_change"
# What the service may do to every other table of the schema.
APP_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    return config


def role_of(url: str) -> str:
    """The role a database URL connects as (checked: it is written into SQL)."""
    name = make_url(url).username or ""
    if not _ROLE_NAME.match(name):
        raise ValueError(f"Database role {name!r} must be a plain lower-case SQL name.")
    return name


def ensure_database(url: str, *, recreate: bool = False, owner: str | None = None) -> None:
    """Create the database named in ``url`` if it does not exist (or anew), as ``url``'s
    role, for ``owner`` when given."""
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
                owned_by = f' OWNER "{owner}"' if owner else ""
                connection.execute(text(f'CREATE DATABASE "{name}"{owned_by}'))
    finally:
        server.dispose()


def bootstrap(admin_url: str, owner_url: str, app_url: str, *, recreate: bool = False) -> None:
    """As a superuser (local clusters, tests): the owner and app roles (no superuser, no
    role or database creation), the database owned by the owner, the extensions, and the
    hand-over to the owner of whatever an older set-up created as the superuser."""
    owner, app = role_of(owner_url), role_of(app_url)
    database = make_url(owner_url).database
    server = create_engine(
        make_url(admin_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with server.connect() as connection:
            for role in dict.fromkeys((owner, app)):
                if not connection.scalar(
                    text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
                ):
                    connection.execute(
                        text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
                    )
    finally:
        server.dispose()
    ensure_database(admin_url, recreate=recreate, owner=owner)
    local = create_engine(make_url(admin_url).set(database=database), isolation_level="AUTOCOMMIT")
    try:
        with local.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" OWNER TO "{owner}"'))
            for extension in EXTENSIONS:
                connection.execute(text(f"CREATE EXTENSION IF NOT EXISTS {extension}"))
            _hand_over(connection, owner)
    finally:
        local.dispose()


# Tables, views, sequences (not those a column owns), types and functions of the schema
# that no extension owns, created by another role than the owner (a cluster set up before
# the owner role existed).
_FOREIGN_OBJECTS = """
SELECT format('ALTER %s %s OWNER TO %I', kind, name, :owner) FROM (
    SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind,
           c.oid::regclass::text AS name, c.oid AS oid, c.relowner AS owner
    FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S')
    UNION ALL
    SELECT 'TYPE', t.oid::regtype::text, t.oid, t.typowner FROM pg_type t
    WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')
    UNION ALL
    SELECT 'FUNCTION', p.oid::regprocedure::text, p.oid, p.proowner FROM pg_proc p
    WHERE p.pronamespace = 'public'::regnamespace
) AS o
WHERE pg_get_userbyid(o.owner) <> :owner
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = o.oid AND e.deptype = 'e')
"""


def _hand_over(connection: Connection, owner: str) -> None:
    for (statement,) in connection.execute(text(_FOREIGN_OBJECTS), {"owner": owner}).all():
        connection.execute(text(statement))


def grant_app_privileges(owner_url: str, app_role: str) -> None:
    """As the owner, after every migration: the app role gets DML on every table the owner
    owns, only SELECT and INSERT on the append-only logs and the migration history, and
    no TRUNCATE, REFERENCES or TRIGGER anywhere. Idempotent: the grants are rebuilt."""
    engine = create_engine(owner_url)
    try:
        with engine.begin() as connection:
            owner = connection.scalar(text("SELECT current_user"))
            tables = connection.scalars(
                text(
                    "SELECT c.oid::regclass::text FROM pg_class c "
                    "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
                    "AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
                )
            ).all()
            append_only = set(
                connection.scalars(
                    text(
                        "SELECT DISTINCT t.tgrelid::regclass::text FROM pg_trigger t "
                        "JOIN pg_proc p ON p.oid = t.tgfoid "
                        "WHERE p.proname = :guard AND NOT t.tgisinternal"
                    ),
                    {"guard": APPEND_ONLY_GUARD},
                ).all()
            )
            append_only.add("alembic_version")
            connection.execute(text(f'GRANT USAGE ON SCHEMA public TO "{app_role}"'))
            for table in tables:
                connection.execute(text(f'REVOKE ALL ON {table} FROM "{app_role}"'))
                privileges = "SELECT, INSERT" if table in append_only else APP_TABLE_PRIVILEGES
                connection.execute(text(f'GRANT {privileges} ON {table} TO "{app_role}"'))
            connection.execute(
                text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{app_role}"')
            )
            # Tables the owner creates outside these migrations start with the same rights.
            connection.execute(
                text(
                    f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA public '
                    f'GRANT {APP_TABLE_PRIVILEGES} ON TABLES TO "{app_role}"'
                )
            )
            connection.execute(
                text(
                    f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA public '
                    f'GRANT USAGE, SELECT ON SEQUENCES TO "{app_role}"'
                )
            )
    finally:
        engine.dispose()


def upgrade(
    url: str,
    revision: str = "head",
    *,
    app_url: str | None = None,
    admin_url: str | None = None,
    recreate: bool = False,
) -> None:
    """Migrate the database of ``url`` (the owner's) to ``revision``; set it up first as
    a superuser when ``admin_url`` is given; grant the role of ``app_url`` its privileges
    when it is another role than the owner."""
    if admin_url:
        bootstrap(admin_url, url, app_url or url, recreate=recreate)
    else:
        ensure_database(url, recreate=recreate)
    command.upgrade(alembic_config(url), revision)
    if app_url and not same_role(app_url, url):
        grant_app_privileges(url, role_of(app_url))
        check_least_privilege(app_url)


class TooPrivileged(RuntimeError):
    """The service's role could rewrite history or switch safeguards off."""


def check_least_privilege(app_url: str) -> None:
    """Connect as the service and refuse a role that is a superuser, may create roles or
    databases, bypasses row security, or owns (or inherits an owner of) a table."""
    engine = create_engine(app_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            role = connection.execute(
                text(
                    "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls "
                    "FROM pg_roles WHERE rolname = current_user"
                )
            ).one()
            owned = connection.scalars(
                text(
                    "SELECT c.relname FROM pg_class c "
                    "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
                    "AND pg_has_role(current_user, c.relowner, 'MEMBER') ORDER BY 1 LIMIT 3"
                )
            ).all()
    finally:
        engine.dispose()
    powers = [
        power
        for power, held in (
            ("is a superuser", role.rolsuper),
            ("may create roles", role.rolcreaterole),
            ("may create databases", role.rolcreatedb),
            ("bypasses row-level security", role.rolbypassrls),
            (f"owns tables ({', '.join(owned)})", bool(owned)),
        )
        if held
    ]
    if powers:
        raise TooPrivileged(
            f"The service's database role {role.rolname!r} {'; '.join(powers)}: give "
            "DATABASE_URL a role with least privilege (README, Database roles)."
        )


def same_role(url: str, other: str) -> bool:
    return make_url(url).username == make_url(other).username
