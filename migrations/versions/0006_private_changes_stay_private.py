"""Private changes stay private; every read of private fields is logged with what was read.

- The access log says which item (target_type), which fields and through which endpoint.
- The cell table of low-zoom tiles moves only for actors whose public location or
  visibility changed: an update of private fields (an exact location within the same
  public cell, contacts) leaves every tile as it was, to the byte.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

VISIBLE = "{t}.status = 'published' AND NOT {t}.hidden"
# Rows of one side (old or new) whose public state differs from the other side's.
MOVED = (
    "PERFORM actor_cells_shift({sign}, array_agg(ST_X(a.public_location)), "
    "array_agg(ST_Y(a.public_location))) FROM {a} AS a JOIN {b} AS b USING (id) "
    "WHERE " + VISIBLE.format(t="a") + " AND NOT (" + VISIBLE.format(t="b") + " AND "
    "ST_X(a.public_location) = ST_X(b.public_location) AND "
    "ST_Y(a.public_location) = ST_Y(b.public_location)) HAVING count(*) > 0;"
)
ONLY_MOVED = MOVED.format(sign=-1, a="old_rows", b="new_rows") + " " + MOVED.format(
    sign=1, a="new_rows", b="old_rows"
)
EVERY_ROW = (
    "PERFORM actor_cells_shift(-1, array_agg(ST_X(public_location)), "
    "array_agg(ST_Y(public_location))) FROM old_rows WHERE status = 'published' AND NOT hidden "
    "HAVING count(*) > 0; "
    "PERFORM actor_cells_shift(1, array_agg(ST_X(public_location)), "
    "array_agg(ST_Y(public_location))) FROM new_rows WHERE status = 'published' AND NOT hidden "
    "HAVING count(*) > 0;"
)


def _update_function(body: str) -> str:
    return (
        "CREATE OR REPLACE FUNCTION actor_cells_after_update() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
    )


def upgrade() -> None:
    op.add_column(
        "location_access_log",
        sa.Column("target_type", sa.String(20), server_default="actor", nullable=False),
    )
    op.add_column(
        "location_access_log",
        sa.Column(
            "fields",
            postgresql.ARRAY(sa.String(32)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.add_column("location_access_log", sa.Column("endpoint", sa.String(100), nullable=True))
    op.execute(_update_function(ONLY_MOVED))


def downgrade() -> None:
    op.execute(_update_function(EVERY_ROW))
    for column in ("endpoint", "fields", "target_type"):
        op.drop_column("location_access_log", column)
