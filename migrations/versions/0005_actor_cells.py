"""Cluster levels for low-zoom tiles: per zoom (0-8) and grid cell, the number of visible
actors and the sum of their Web Mercator coordinates, kept up to date by statement-level
triggers in the same transaction as every change (hiding an actor takes effect at once).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Must match geo.tiles: GRID cells per tile side, the same Mercator formula.
SHIFT = """
CREATE FUNCTION actor_cells_shift(sign integer, lons float8[], lats float8[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO actor_cells (z, cx, cy, n, sx, sy)
    SELECT z, floor(m.x / size)::integer, floor(m.y / size)::integer,
           sign * count(*), sign * sum(m.x), sign * sum(m.y)
    FROM unnest(lons, lats) AS p(lon, lat)
    CROSS JOIN LATERAL (
        SELECT p.lon * 20037508.342789244 / 180 AS x,
               ln(tan((90 + greatest(least(p.lat, 85.05112878), -85.05112878)) * pi() / 360))
                   * 20037508.342789244 / pi() AS y
    ) AS m
    CROSS JOIN LATERAL (
        SELECT z, 2 * 20037508.342789244 / (2 ^ z) / 128 AS size FROM generate_series(0, 8) AS z
    ) AS level
    GROUP BY 1, 2, 3
    ON CONFLICT (z, cx, cy) DO UPDATE
        SET n = actor_cells.n + EXCLUDED.n,
            sx = actor_cells.sx + EXCLUDED.sx,
            sy = actor_cells.sy + EXCLUDED.sy;
    DELETE FROM actor_cells WHERE n <= 0;
$$
"""

VISIBLE = "status = 'published' AND NOT hidden"


def _shift_from(sign: int, table: str) -> str:
    return (
        f"PERFORM actor_cells_shift({sign}, array_agg(ST_X(public_location)), "
        f"array_agg(ST_Y(public_location))) FROM {table} WHERE {VISIBLE} HAVING count(*) > 0;"
    )


def upgrade() -> None:
    op.execute(
        "CREATE TABLE actor_cells (z smallint NOT NULL, cx integer NOT NULL, cy integer NOT NULL, "
        "n integer NOT NULL, sx float8 NOT NULL, sy float8 NOT NULL, PRIMARY KEY (z, cx, cy))"
    )
    # Emptied cells are deleted right away: the partial index finds them without a scan.
    op.execute("CREATE INDEX ix_actor_cells_empty ON actor_cells (z) WHERE n <= 0")
    op.execute(SHIFT)
    for event, body in (
        ("INSERT", _shift_from(1, "new_rows")),
        ("DELETE", _shift_from(-1, "old_rows")),
        ("UPDATE", _shift_from(-1, "old_rows") + " " + _shift_from(1, "new_rows")),
    ):
        op.execute(
            f"CREATE FUNCTION actor_cells_after_{event.lower()}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {body} RETURN NULL; END $$"
        )
        tables = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows"}.get(
            event, "OLD TABLE AS old_rows NEW TABLE AS new_rows"
        )
        op.execute(
            f"CREATE TRIGGER actor_cells_{event.lower()} AFTER {event} ON actors "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION actor_cells_after_{event.lower()}()"
        )
    op.execute(
        "CREATE FUNCTION actor_cells_truncate() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN TRUNCATE actor_cells; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER actor_cells_truncate AFTER TRUNCATE ON actors "
        "FOR EACH STATEMENT EXECUTE FUNCTION actor_cells_truncate()"
    )
    op.execute(
        "SELECT actor_cells_shift(1, array_agg(ST_X(public_location)), array_agg(ST_Y(public_location))) "
        f"FROM actors WHERE {VISIBLE} HAVING count(*) > 0"
    )


def downgrade() -> None:
    for event in ("insert", "delete", "update", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS actor_cells_{event} ON actors")
        op.execute(f"DROP FUNCTION IF EXISTS actor_cells_after_{event}()")
    op.execute("DROP FUNCTION IF EXISTS actor_cells_truncate()")
    op.execute("DROP FUNCTION IF EXISTS actor_cells_shift(integer, float8[], float8[])")
    op.execute("DROP TABLE IF EXISTS actor_cells")
