"""Project areas follow their organisation's precision, as its area of operation does
(0011, 0015): a public area generalised when written, and the area as drawn sealed at rest.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2.types import Geometry
from psycopg2 import Binary
from psycopg2.extras import execute_values
from shapely import wkb
from shapely.geometry import MultiPolygon

from api.crypto import SealedArea
from geo.geojson import short_way_round
from geo.privacy import public_area

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BATCH = 1000
AREA = SealedArea()


def _multi(geometry):
    geometry = short_way_round(geometry)
    return MultiPolygon([geometry]) if geometry.geom_type == "Polygon" else geometry


def upgrade() -> None:
    op.add_column(
        "projects",
        sa.Column(
            "public_area",
            Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=True,
        ),
    )
    op.execute("ALTER TABLE projects ADD COLUMN area_sealed bytea")
    connection = op.get_bind().connection.dbapi_connection
    reader = connection.cursor(name="project_areas")
    reader.itersize = BATCH
    reader.execute(
        "SELECT p.id, ST_AsBinary(p.area), a.location_precision, a.country "
        "FROM projects p JOIN actors a ON a.id = p.actor_id WHERE p.area IS NOT NULL"
    )
    writer = connection.cursor()
    sql = (
        "UPDATE projects SET public_area = v.shown, area_sealed = v.sealed "
        "FROM (VALUES %s) AS v(id, shown, sealed) WHERE projects.id = v.id"
    )
    template = "(%s::uuid, ST_GeomFromWKB(%s::bytea, 4326), %s::bytea)"
    while rows := reader.fetchmany(BATCH):
        values = []
        for project_id, drawn, precision, country in rows:
            drawn = wkb.loads(bytes(drawn))
            shown = _multi(public_area(drawn, precision, country))
            values.append((project_id, Binary(shown.wkb), Binary(AREA.seal(drawn))))
        execute_values(writer, sql, values, template=template, page_size=BATCH)
    reader.close()
    writer.close()
    op.execute("DROP INDEX IF EXISTS ix_projects_area")
    op.execute("ALTER TABLE projects DROP COLUMN area")
    op.execute("ALTER TABLE projects RENAME COLUMN area_sealed TO area")
    op.create_index(
        "ix_projects_public_area", "projects", ["public_area"], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_index("ix_projects_public_area", table_name="projects")
    op.execute("ALTER TABLE projects ADD COLUMN area_plain geometry(MULTIPOLYGON, 4326)")
    connection = op.get_bind().connection.dbapi_connection
    reader = connection.cursor(name="project_areas")
    reader.execute("SELECT id, area FROM projects WHERE area IS NOT NULL")
    writer = connection.cursor()
    while rows := reader.fetchmany(BATCH):
        for project_id, sealed in rows:
            writer.execute(
                "UPDATE projects SET area_plain = ST_GeomFromWKB(%s::bytea, 4326) WHERE id = %s",
                (Binary(AREA.unseal(sealed).data), project_id),
            )
    reader.close()
    writer.close()
    op.execute("ALTER TABLE projects DROP COLUMN area")
    op.execute("ALTER TABLE projects RENAME COLUMN area_plain TO area")
    op.drop_column("projects", "public_area")
    op.execute("CREATE INDEX ix_projects_area ON projects USING gist (area)")
