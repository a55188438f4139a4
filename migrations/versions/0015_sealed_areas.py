"""Actors' areas of operation as drawn sealed at rest (api.crypto): since 0011 the public
sees public_area, so the drawn area (a square around an office, say) is private and leaves
the dump, its spatial index with it.

Revision ID: 0015
Revises: 0014
"""

from alembic import op
from psycopg2 import Binary
from psycopg2.extras import execute_values
from shapely import wkb

from api.crypto import SealedArea

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BATCH = 1000
AREA = SealedArea()


def _rewrite(read: str, target: str, expression: str, convert) -> None:
    """Set actors.<target> to convert(<read>) for every actor with an area, per batch."""
    connection = op.get_bind().connection.dbapi_connection
    reader = connection.cursor(name="rewrite_areas")
    reader.itersize = BATCH
    reader.execute(f"SELECT id, {read} FROM actors WHERE area IS NOT NULL")
    writer = connection.cursor()
    sql = (
        f"UPDATE actors SET {target} = v.value FROM (VALUES %s) AS v(id, value) "
        "WHERE actors.id = v.id"
    )
    while rows := reader.fetchmany(BATCH):
        values = [(row[0], convert(row[1])) for row in rows]
        execute_values(writer, sql, values, template=f"(%s::uuid, {expression})", page_size=BATCH)
    reader.close()
    writer.close()


def _swap(new: str) -> None:
    op.execute("ALTER TABLE actors DROP COLUMN area")
    op.execute(f"ALTER TABLE actors RENAME COLUMN {new} TO area")


def upgrade() -> None:
    op.execute("ALTER TABLE actors ADD COLUMN area_sealed bytea")
    _rewrite(
        "ST_AsBinary(area)", "area_sealed", "%s::bytea",
        lambda area: Binary(AREA.seal(wkb.loads(bytes(area)))),
    )
    op.execute("DROP INDEX IF EXISTS ix_actors_area")
    _swap("area_sealed")


def downgrade() -> None:
    op.execute("ALTER TABLE actors ADD COLUMN area_plain geometry(MULTIPOLYGON, 4326)")
    _rewrite(
        "area", "area_plain", "ST_GeomFromWKB(%s::bytea, 4326)",
        lambda area: Binary(AREA.unseal(area).data),
    )
    _swap("area_plain")
    op.execute("CREATE INDEX ix_actors_area ON actors USING gist (area)")
