"""Areas of operation follow the actor's precision: a public area, generalised when written
(geo.privacy.public_area), beside the area as drawn, which becomes private.

Revision ID: 0011
Revises: 0010
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from shapely import wkb
from shapely.geometry import MultiPolygon

from geo.privacy import public_area

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "actors",
        sa.Column(
            "public_area",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False
            ),
            nullable=True,
        ),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, ST_AsBinary(area), location_precision, country FROM actors "
            "WHERE area IS NOT NULL"
        )
    )
    for actor_id, area, precision, country in rows.all():
        shown = public_area(wkb.loads(bytes(area)), precision, country)
        if shown.geom_type == "Polygon":
            shown = MultiPolygon([shown])
        connection.execute(
            sa.text(
                "UPDATE actors SET public_area = ST_GeomFromWKB(:area, 4326) WHERE id = :id"
            ),
            {"area": shown.wkb, "id": actor_id},
        )
    op.create_index(
        "ix_actors_public_area", "actors", ["public_area"], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_index("ix_actors_public_area", table_name="actors")
    op.drop_column("actors", "public_area")
