"""A database dump alone reveals no protected person (issue 9).

The promises, each tried here as an attacker would:

1. Least privilege. The service connects as a role that is no superuser and owns no
   table; it may INSERT into the append-only logs (audit, moderation, exact-location
   access) but not UPDATE, DELETE or TRUNCATE them, and cannot switch their triggers off
   (neither ``ALTER TABLE ... DISABLE TRIGGER`` nor ``session_replication_role``).
   Migrations run as the owner of the tables. So an SQL injection or a stolen service
   password cannot erase what staff did.
2. Encryption at rest. Exact locations and contact details are sealed (AES-GCM, a key
   outside the database, api/crypto.py) wherever they are stored: actors, observations,
   revisions (snapshots and diffs), contributions (payloads and base snapshots) and
   stored idempotent responses. A dump of every column of every table, after an actor,
   edits, proposals, an observation and retried requests went through the API, holds no
   exact coordinate (as text, as WKB or as a double's bytes) and no contact string.
   Public filters keep working on public points; staff reads decrypt and are logged; a
   sealed value does not open as another kind of value; production refuses to start
   without a key; ``flask keys rotate`` seals everything anew under a new key, after which
   the old key can go; the migration seals rows that were stored in clear.
3. The access log records no search coordinates or credentials: served by gunicorn as
   ``make run`` serves it, requests with ``near=``, ``bbox=``, ``intersects=``, a token in
   the query string, deep tile addresses, a Referer carrying coordinates, an
   ``Authorization`` header and a cookie leave lines with the paths, parameter names,
   statuses and harmless values only, even with a log format that names the headers.
"""

from __future__ import annotations

import io
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from alembic import command
from geoalchemy2.shape import to_shape
from shapely.geometry import Point, shape
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from api import create_app, crypto, migrate
from api.actors.models import Actor
from api.config import ConfigError
from api.migrate import same_role
from api.models import Base, Flag, IdempotencyRecord, Revision
from tests.conftest import DATA_KEY

ROOT = Path(__file__).resolve().parent.parent
BEFORE_SEALING = "0007"  # the migration before the one that seals private values
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


def test_migrations_check_the_service_role_has_least_privilege(separate_roles):
    migrate.check_least_privilege(separate_roles["DATABASE_URL"])
    with pytest.raises(migrate.TooPrivileged, match="owns tables"):
        migrate.check_least_privilege(separate_roles["MIGRATION_DATABASE_URL"])
    if separate_roles["ADMIN_DATABASE_URL"]:
        with pytest.raises(migrate.TooPrivileged, match="is a superuser"):
            migrate.check_least_privilege(separate_roles["ADMIN_DATABASE_URL"])


def test_production_migrations_refuse_to_make_the_service_the_owner(database_url):
    app = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "x" * 40,
            "DATABASE_URL": database_url,
            "MIGRATION_DATABASE_URL": database_url,
            "DATA_KEY": DATA_KEY,
        }
    )
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code != 0
    assert "must not connect as the owner of its tables" in result.output


# -- 2. encryption at rest ------------------------------------------------------------------

# Distinctive points in Nairobi, generalised (locality) in public.
EXACT = (36.8123457, -1.2876543)
MOVED = (36.8234567, -1.2987654)
PROPOSED = (36.8345678, -1.3098765)
OBSERVED = (36.8456789, -1.3209876)
CONTACT = {
    "email": "hidden.defender@example.org",
    "phone": "+254 700 918 273",
    "messaging": "signal:quiet-lantern",
    "note": "Meets visitors behind the blue gate",
}
# An area of operation drawn tight around the office: private as drawn.
AREA_CORNERS = ((36.8083457, -1.2836543), (36.8163457, -1.2916543))
FLAG_NOTE = "at the clinic on Riverside Lane"
NEW_CONTACT = {"email": "second.address@example.org", "phone": "+254 711 364 552"}


def point(coordinates) -> dict:
    return {"type": "Point", "coordinates": list(coordinates)}


def drawn_area() -> dict:
    (west, north), (east, south) = AREA_CORNERS
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def needles() -> list[str]:
    """What would give the person away: coordinates as text, as the little- and big-endian
    bytes of a double (WKB, hex in a dump) and every contact string."""
    found = []
    for coordinates in (EXACT, MOVED, PROPOSED, OBSERVED, *AREA_CORNERS):
        for value in coordinates:
            found.append(f"{value:.5f}"[:-1])  # 4 decimals and more: about 10 m
            found += [struct.pack("<d", value).hex(), struct.pack(">d", value).hex()]
    for contact in (CONTACT, NEW_CONTACT):
        found += list(contact.values())
    found += ["hidden.defender", "quiet-lantern", "blue gate", "918 273", "364 552", FLAG_NOTE]
    return found


def dump(connection) -> str:
    """Every column of every table, as pg_dump writes data (COPY text), plus every
    geometry column as text."""
    cursor = connection.connection.dbapi_connection.cursor()
    out = io.StringIO()
    tables = connection.scalars(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    ).all()
    for table in tables:
        cursor.copy_expert(f'COPY (SELECT * FROM "{table}") TO STDOUT', out)
    for table, column in connection.execute(
        text(
            "SELECT f_table_name, f_geometry_column FROM geometry_columns "
            "WHERE f_table_schema = 'public'"
        )
    ):
        for (wkt,) in connection.execute(text(f'SELECT ST_AsText("{column}") FROM "{table}"')):
            out.write(f"{wkt}\n")
    return out.getvalue().lower()


@pytest.fixture
def staff(make_user, login):
    return {
        "author": login(make_user()),
        "mod": login(make_user("moderator")),
    }


def test_a_dump_of_the_database_reveals_no_exact_location_or_contact(client, connection, staff):
    mod, author = staff["mod"], staff["author"]
    name = f"Harbour Women's Network {uuid.uuid4().hex[:6]}"
    created = client.post(
        "/api/v1/actors",
        json={
            "kind": "organisation",
            "name": name,
            "language": "en",
            "location": point(EXACT),
            "location_precision": "locality",
            "contact": CONTACT,
            "area": drawn_area(),
            "themes": ["gender"],
            "status": "published",
        },
        headers={**mod, "Idempotency-Key": "create-1"},
    )
    assert created.status_code == 201, created.get_json()
    actor_id = created.get_json()["id"]
    # An edit proposed, retried on a flaky network, approved: revisions, diffs, payloads.
    edit = {
        "kind": "actor_edit",
        "target_type": "actor",
        "target_id": actor_id,
        "payload": {"location": point(MOVED), "contact": NEW_CONTACT},
    }
    for _ in range(2):
        proposed = client.post(
            "/api/v1/contributions", json=edit, headers={**author, "Idempotency-Key": "edit-1"}
        )
        assert proposed.status_code == 201, proposed.get_json()
    decided = client.post(
        f"/api/v1/moderation/contributions/{proposed.get_json()['id']}/decision",
        json={"decision": "approve"},
        headers=mod,
    )
    assert decided.status_code == 200, decided.get_json()
    # A new actor proposed and left in the queue; an observation approved.
    proposal = {
        "kind": "new_actor",
        "payload": {
            "kind": "practitioner",
            "name": "A mediator who must not be found",
            "language": "en",
            "location": point(PROPOSED),
            "location_precision": "region",
            "contact": {"phone": CONTACT["phone"]},
        },
    }
    assert client.post("/api/v1/contributions", json=proposal, headers=author).status_code == 201
    observation = {
        "kind": "new_observation",
        "payload": {
            "text": "Night patrols stopped near the market.",
            "language": "en",
            "observed_on": "2025-02-10",
            "location": point(OBSERVED),
            "location_precision": "locality",
            "actor_id": actor_id,
        },
    }
    observed = client.post("/api/v1/contributions", json=observation, headers=author)
    assert observed.status_code == 201, observed.get_json()
    approved = client.post(
        f"/api/v1/moderation/contributions/{observed.get_json()['id']}/decision",
        json={"decision": "approve"},
        headers=mod,
    )
    assert approved.status_code == 200, approved.get_json()

    # A flag that says where the person is, as reporters do.
    flagged = client.post(
        "/api/v1/flags",
        json={
            "target_type": "actor",
            "target_id": actor_id,
            "reason": "endangers_someone",
            "note": f"This shows her office; she now sleeps {FLAG_NOTE}.",
        },
        headers=author,
    )
    assert flagged.status_code in (201, 202), flagged.get_json()

    everything = dump(connection)
    assert name.lower() in everything  # the dump sees this test's rows...
    assert "point(36.85 -1.25)" in everything  # ...and geometries: the public point is there
    assert [needle for needle in needles() if needle.lower() in everything] == []


def test_staff_read_the_exact_location_decrypted_and_logged(client, connection, staff):
    mod = staff["mod"]
    created = client.post(
        "/api/v1/actors",
        json={
            "kind": "organisation",
            "name": "Sealed Network",
            "language": "en",
            "location": point(EXACT),
            "location_precision": "locality",
            "contact": CONTACT,
            "status": "published",
        },
        headers=mod,
    )
    actor_id = created.get_json()["id"]
    public = client.get(f"/api/v1/actors/{actor_id}").get_json()
    assert "contact" not in public and "exact_location" not in public
    before = connection.scalar(
        text("SELECT count(*) FROM location_access_log WHERE actor_id = :a"), {"a": actor_id}
    )
    private = client.get(f"/api/v1/actors/{actor_id}?include=private", headers=mod)
    assert private.status_code == 200
    assert private.headers["Cache-Control"] == "private, no-store"
    body = private.get_json()
    assert shape(body["exact_location"]).equals_exact(Point(*EXACT), 1e-7)
    assert body["contact"] == CONTACT
    after = connection.scalar(
        text("SELECT count(*) FROM location_access_log WHERE actor_id = :a"), {"a": actor_id}
    )
    assert after == before + 1
    # Public filters still work, on the public point only.
    west, south = shape(public["location"]).coords[0]
    near = f"{west - 0.01},{south - 0.01},{west + 0.01},{south + 0.01}"
    found = client.get(f"/api/v1/actors?bbox={near}").get_json()["items"]
    assert actor_id in [item["id"] for item in found]
    tiny = f"{EXACT[0] - 0.001},{EXACT[1] - 0.001},{EXACT[0] + 0.001},{EXACT[1] + 0.001}"
    assert actor_id not in [
        i["id"] for i in client.get(f"/api/v1/actors?bbox={tiny}").get_json()["items"]
    ]


def test_a_sealed_value_opens_only_as_what_it_was_sealed_as():
    keyring = crypto.Keyring.parse(crypto.generate_key("one"))
    sealed = keyring.seal(b'{"email": "x@example.org"}', "contact")
    assert keyring.open(sealed, "contact") == b'{"email": "x@example.org"}'
    with pytest.raises(ValueError, match="does not open"):
        keyring.open(sealed, "location")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(ValueError, match="does not open"):
        keyring.open(tampered, "contact")
    other = crypto.Keyring.parse(crypto.generate_key("two"))
    with pytest.raises(crypto.KeyNotFound, match="'one'"):
        other.open(sealed, "contact")


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "nokey",
        "a:c2hvcnQ",
        "a b:" + "A" * 43,
        crypto.generate_key("a") + "," + crypto.generate_key("a"),
    ],
)
def test_bad_data_keys_are_refused_by_name(spec):
    with pytest.raises(ConfigError, match="PEACEMAP_DATA_KEY"):
        crypto.Keyring.parse(spec)


def test_production_refuses_to_start_without_a_data_key(database_url, tmp_path):
    settings = {"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": database_url}
    with pytest.raises(ConfigError, match="without a data key"):
        create_app({**settings, "DATA_KEY": None, "DATA_KEY_FILE": None})
    with pytest.raises(ConfigError, match="PEACEMAP_DATA_KEY_FILE"):
        create_app({**settings, "DATA_KEY": None, "DATA_KEY_FILE": str(tmp_path / "missing")})
    key_file = tmp_path / "data.keys"
    key_file.write_text(crypto.generate_key("prod") + "\n")
    try:
        create_app({**settings, "DATA_KEY": None, "DATA_KEY_FILE": str(key_file)})
        assert crypto.keyring().active == "prod"
    finally:
        crypto.install(crypto.Keyring.parse(DATA_KEY))


@pytest.fixture
def restore_keyring():
    yield
    crypto.install(crypto.Keyring.parse(DATA_KEY))


def test_keys_rotate_seals_everything_anew_under_the_new_key(
    app, client, session, staff, restore_keyring
):
    mod, author = staff["mod"], staff["author"]
    created = client.post(
        "/api/v1/actors",
        json={
            "kind": "organisation",
            "name": "Rotated Network",
            "language": "en",
            "location": point(EXACT),
            "location_precision": "locality",
            "contact": CONTACT,
            "status": "published",
        },
        headers=mod,
    )
    actor_id = created.get_json()["id"]
    edit = {
        "kind": "actor_edit",
        "target_type": "actor",
        "target_id": actor_id,
        "payload": {"contact": NEW_CONTACT},
    }
    headers = {**author, "Idempotency-Key": "rotate-1"}
    assert client.post("/api/v1/contributions", json=edit, headers=headers).status_code == 201
    version = client.get(f"/api/v1/actors/{actor_id}").get_json()["version"]
    old = crypto.keyring()
    assert set(crypto.key_ids_in_use(session, Base.metadata)) == {old.active}

    new_key = crypto.generate_key("next")
    crypto.install(crypto.Keyring.parse(f"{new_key},{DATA_KEY}"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "now under key 'next'" in result.output
    assert set(crypto.key_ids_in_use(session, Base.metadata)) == {"next"}
    status = runner.invoke(args=["keys", "status"])
    assert "next:" in status.output and "(active)" in status.output

    # The old key can go: everything opens with the new one alone.
    crypto.install(crypto.Keyring.parse(new_key))
    session.expire_all()
    private = client.get(f"/api/v1/actors/{actor_id}?include=private", headers=mod).get_json()
    assert private["contact"] == CONTACT
    assert shape(private["exact_location"]).equals_exact(Point(*EXACT), 1e-7)
    assert private["version"] == version  # rotation changes nothing public
    replay = client.post("/api/v1/contributions", json=edit, headers=headers)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    queue = client.get("/api/v1/moderation/queue", headers=mod)
    assert queue.status_code == 200


def real_pg_dump(engine, url: str) -> str:
    """The output of the server's own pg_dump for the database of ``url``."""
    with engine.connect() as connection:
        major = int(connection.scalar(text("SHOW server_version_num"))) // 10000
    binary = Path(f"/usr/lib/postgresql/{major}/bin/pg_dump")
    if not binary.exists():
        pytest.skip(f"no {binary}")
    target = make_url(url)
    arguments = ["--no-owner", "-h", target.host, "-p", str(target.port), "-U", target.username]
    return subprocess.run(
        [str(binary), *arguments, target.database],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def test_the_migration_seals_rows_stored_in_clear_and_back(separate_roles):
    admin = separate_roles["ADMIN_DATABASE_URL"]
    if admin is None:
        pytest.skip("No superuser URL to create a throw-away database")
    urls = {
        key: make_url(url).set(database="peacemap_migration_test").render_as_string(False)
        for key, url in separate_roles.items()
    }
    owner_url = urls["MIGRATION_DATABASE_URL"]
    migrate.upgrade(owner_url, BEFORE_SEALING, admin_url=urls["ADMIN_DATABASE_URL"], recreate=True)
    engine = create_engine(owner_url, poolclass=NullPool)
    actor_id, user_id = uuid.uuid4(), uuid.uuid4()
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO actors (id, kind, name, language, location, location_precision, "
                    "public_location, country, status, contact) VALUES (:id, 'organisation', "
                    "'Old Row', 'en', ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'locality', "
                    "ST_SetSRID(ST_MakePoint(36.85, -1.25), 4326), 'KE', 'published', "
                    "CAST(:contact AS jsonb))"
                ),
                {"id": actor_id, "x": EXACT[0], "y": EXACT[1], "contact": json.dumps(CONTACT)},
            )
            connection.execute(
                text(
                    "INSERT INTO revisions (target_type, target_id, number, action, changes, "
                    "snapshot) VALUES ('actor', :id, 1, 'created', CAST(:doc AS jsonb), "
                    "CAST(:doc AS jsonb))"
                ),
                {"id": actor_id, "doc": json.dumps({"name": "Old Row", "contact": CONTACT})},
            )
            connection.execute(
                text(
                    "INSERT INTO users (id, email, display_name, password_hash) "
                    "VALUES (:id, 'old@example.org', 'Old', 'x')"
                ),
                {"id": user_id},
            )
            connection.execute(
                text(
                    "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, "
                    "headers) VALUES (:id, 'k', 'h', 201, :body, '{}')"
                ),
                {"id": user_id, "body": json.dumps({"contact": CONTACT})},
            )
            connection.execute(
                text(
                    "INSERT INTO flags (id, target_type, target_id, reporter_id, reason, note) "
                    "VALUES (gen_random_uuid(), 'actor', :a, :u, 'endangers_someone', :note)"
                ),
                {"a": actor_id, "u": user_id, "note": FLAG_NOTE},
            )
        migrate.upgrade(owner_url, app_url=urls["DATABASE_URL"])
        # pg_dump itself, on this committed database: what a stolen backup would hold.
        backup = real_pg_dump(engine, owner_url).lower()
        assert "old row" in backup
        assert [needle for needle in needles() if needle.lower() in backup] == []
        with engine.begin() as connection:
            assert [needle for needle in needles() if needle.lower() in dump(connection)] == []
            with Session(connection) as session:
                actor = session.get(Actor, actor_id)
                assert to_shape(actor.location).equals_exact(Point(*EXACT), 1e-9)
                assert actor.contact == CONTACT
                revision = session.scalars(select(Revision)).one()
                assert revision.snapshot == {"name": "Old Row", "contact": CONTACT}
                stored = session.scalars(select(IdempotencyRecord)).one()
                assert json.loads(stored.body) == {"contact": CONTACT}
                assert session.scalars(select(Flag.note)).one() == FLAG_NOTE
        command.downgrade(migrate.alembic_config(owner_url), BEFORE_SEALING)
        with engine.begin() as connection:
            x, contact = connection.execute(
                text("SELECT ST_X(location), contact FROM actors WHERE id = :id"), {"id": actor_id}
            ).one()
            assert (round(x, 7), contact) == (EXACT[0], CONTACT)
            assert connection.scalar(text("SELECT note FROM flags")) == FLAG_NOTE
    finally:
        engine.dispose()
        server = create_engine(make_url(admin).set(database="postgres"), poolclass=NullPool)
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("DROP DATABASE IF EXISTS peacemap_migration_test WITH (FORCE)"))
        server.dispose()


# -- 3. the access log ------------------------------------------------------------------------

SECRET_TOKEN = "pm_" + "S3cr3tT0ken" * 4
# gunicorn's default format, then every atom that could carry what the request sent.
HOSTILE_FORMAT = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" | %(U)s %(q)s '
    "%({authorization}i)s %({cookie}i)s %({referer}i)s %({query_string}e)s %({raw_uri}e)s "
    "%({http_authorization}e)s"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_access_log_records_no_search_coordinates_or_tokens(database_urls, tmp_path):
    port, log = free_port(), tmp_path / "access.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_urls["DATABASE_URL"],
        "PEACEMAP_MIGRATION_DATABASE_URL": database_urls["MIGRATION_DATABASE_URL"],
        "PEACEMAP_DATA_KEY": DATA_KEY,
        "PEACEMAP_RATELIMIT_ENABLED": "false",
    }
    command_line = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers",
        "1",
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        str(log),
        "--logger-class",
        "api.accesslog.RedactingLogger",
        "--access-logformat",
        HOSTILE_FORMAT,
        "wsgi:app",
    ]
    server = subprocess.Popen(command_line, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/v1/themes", timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.2)
        area = json.dumps({"type": "Point", "coordinates": [36.8123457, -1.2876543]})
        targets = [
            "/api/v1/actors?near=36.8123457,-1.2876543&radius_km=2&limit=5",
            "/api/v1/actors?bbox=36.80123,-1.29123,36.82123,-1.27123&theme=gender",
            "/api/v1/actors?" + urllib.parse.urlencode({"intersects": area}),
            f"/api/v1/actors?access_token={SECRET_TOKEN}&fields=name,kind",
            "/api/v1/tiles/14/9771/8252.mvt",
        ]
        for target in targets:
            request = urllib.request.Request(
                base + target,
                headers={
                    "Authorization": f"Bearer {SECRET_TOKEN}",
                    "Cookie": f"session={SECRET_TOKEN}",
                    "Referer": f"{base}/?near=36.8123457,-1.2876543#map",
                },
            )
            try:
                urllib.request.urlopen(request, timeout=30).close()
            except urllib.error.HTTPError as exc:
                exc.close()  # 401 for the made-up token: the line is written all the same
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = log.read_text()
    assert lines.count("GET /api/v1/actors?") == 4, lines
    for secret in ("36.812", "36.80123", "-1.2876", "-1.29123", "9771", "8252", "S3cr3tT0ken"):
        assert secret not in lines and urllib.parse.quote(secret) not in lines, (secret, lines)
    assert "near=-&radius_km=-&limit=5" in lines
    assert "bbox=-&theme=gender" in lines
    assert "access_token=-&fields=name,kind" in lines
    assert "/api/v1/tiles/14/-/-.mvt" in lines
