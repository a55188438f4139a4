"""Exact locations, contact details and private fields of stored documents sealed at rest
(api.crypto): the geometry of the exact point and the plain contacts go away, so that a
dump of the database alone locates nobody. Existing rows are sealed here, in batches,
with the configured data key.

Revision ID: 0008
Revises: 0007
"""

import json

from alembic import op
from psycopg2 import Binary
from psycopg2.extras import execute_values
from shapely import wkb

from api.crypto import SealedJSON, SealedPoint, SealedText, open_document, seal_document

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 1000
POINT, CONTACT, RESPONSE = SealedPoint(), SealedJSON(), SealedText()
LOCATED = ("actors", "observations")
DOCUMENTS = {"revisions": ("id::bigint", ("snapshot", "changes")),
             "contributions": ("id::uuid", ("payload", "base_snapshot"))}


def _binary(value):
    return None if value is None else Binary(value)


def _rewrite(table, keys, reads, writes, convert):
    """Stream ``keys + reads`` of every row of ``table`` and set each column of ``writes``
    (name, SQL expression around %s) to ``convert(*read values)``, one UPDATE per batch."""
    connection = op.get_bind().connection.dbapi_connection
    names = [k.split("::")[0] for k in keys]
    reader = connection.cursor(name=f"rewrite_{table}")
    reader.itersize = BATCH
    reader.execute(f"SELECT {', '.join(names + list(reads))} FROM {table}")
    writer = connection.cursor()
    columns = ", ".join(names + [name for name, _ in writes])
    sql = (
        f"UPDATE {table} SET {', '.join(f'{name} = v.{name}' for name, _ in writes)} "
        f"FROM (VALUES %s) AS v({columns}) "
        f"WHERE {' AND '.join(f'{table}.{n} = v.{n}' for n in names)}"
    )
    template = "(" + ", ".join(
        [f"%s::{k.split('::')[1]}" for k in keys] + [expression for _, expression in writes]
    ) + ")"
    while rows := reader.fetchmany(BATCH):
        values = [(*row[: len(keys)], *convert(*row[len(keys):])) for row in rows]
        execute_values(writer, sql, values, template=template, page_size=BATCH)
    reader.close()
    writer.close()


def _swap(table, old, new, *, not_null):
    op.execute(f"ALTER TABLE {table} DROP COLUMN {old}")
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {new} TO {old}")
    if not_null:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {old} SET NOT NULL")


def upgrade() -> None:
    for table in LOCATED:
        op.execute(f"ALTER TABLE {table} ADD COLUMN location_sealed bytea")
    op.execute("ALTER TABLE actors ADD COLUMN contact_sealed bytea")
    op.execute("ALTER TABLE idempotency_keys ADD COLUMN body_sealed bytea")
    _rewrite(
        "actors", ["id::uuid"], ["ST_AsBinary(location)", "contact"],
        [("location_sealed", "%s::bytea"), ("contact_sealed", "%s::bytea")],
        lambda point, contact: (
            _binary(POINT.seal(wkb.loads(bytes(point)))), _binary(CONTACT.seal(contact))
        ),
    )
    _rewrite(
        "observations", ["id::uuid"], ["ST_AsBinary(location)"],
        [("location_sealed", "%s::bytea")],
        lambda point: (_binary(POINT.seal(wkb.loads(bytes(point)))),),
    )
    _rewrite(
        "idempotency_keys", ["user_id::uuid", "key::text"], ["body"],
        [("body_sealed", "%s::bytea")],
        lambda body: (_binary(RESPONSE.seal(body)),),
    )
    for table in LOCATED:
        _swap(table, "location", "location_sealed", not_null=True)
    _swap("actors", "contact", "contact_sealed", not_null=False)
    _swap("idempotency_keys", "body", "body_sealed", not_null=True)
    for table, (key, columns) in DOCUMENTS.items():
        _rewrite(
            table, [key], list(columns), [(c, "%s::jsonb") for c in columns],
            lambda *documents: tuple(
                None if d is None else json.dumps(seal_document(d)) for d in documents
            ),
        )


def downgrade() -> None:
    for table, (key, columns) in DOCUMENTS.items():
        _rewrite(
            table, [key], list(columns), [(c, "%s::jsonb") for c in columns],
            lambda *documents: tuple(
                None if d is None else json.dumps(open_document(d)) for d in documents
            ),
        )
    for table in LOCATED:
        op.execute(f"ALTER TABLE {table} ADD COLUMN location_plain geometry(POINT, 4326)")
    op.execute("ALTER TABLE actors ADD COLUMN contact_plain jsonb")
    op.execute("ALTER TABLE idempotency_keys ADD COLUMN body_plain text")
    _rewrite(
        "actors", ["id::uuid"], ["location", "contact"],
        [("location_plain", "ST_GeomFromWKB(%s::bytea, 4326)"), ("contact_plain", "%s::jsonb")],
        lambda point, contact: (
            _binary(POINT.unseal(point).data), json.dumps(CONTACT.unseal(contact))
        ),
    )
    _rewrite(
        "observations", ["id::uuid"], ["location"],
        [("location_plain", "ST_GeomFromWKB(%s::bytea, 4326)")],
        lambda point: (_binary(POINT.unseal(point).data),),
    )
    _rewrite(
        "idempotency_keys", ["user_id::uuid", "key::text"], ["body"],
        [("body_plain", "%s::text")],
        lambda body: (RESPONSE.unseal(body),),
    )
    for table in LOCATED:
        _swap(table, "location", "location_plain", not_null=True)
    op.execute("UPDATE actors SET contact_plain = '{}'::jsonb WHERE contact_plain IS NULL")
    _swap("actors", "contact", "contact_plain", not_null=True)
    op.execute("ALTER TABLE actors ALTER COLUMN contact SET DEFAULT '{}'::jsonb")
    _swap("idempotency_keys", "body", "body_plain", not_null=True)
