"""Cluster and weighted surveys are rare: ``latest_totals`` keeps a project's design effects
and effective sample sizes as NULL when none of its totals has one, so a comparison sends
and parses half the numbers.

Revision ID: 0021
Revises: 0020
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

REFRESH = """
CREATE OR REPLACE FUNCTION latest_totals_refresh(changed uuid[]) RETURNS void
LANGUAGE sql AS $$
    -- Another transaction writing values of the same projects commits first: each statement
    -- below takes a new snapshot, so the recount sees its values (no lost update).
    SELECT 1 FROM projects WHERE id = ANY(changed) ORDER BY id FOR NO KEY UPDATE;
    DELETE FROM latest_totals WHERE project_id = ANY(changed);
    INSERT INTO latest_totals (project_id, period, measures, vals, sample_sizes,
                               design_effects, effective_sample_sizes)
    SELECT DISTINCT ON (p.project_id) p.project_id, p.period, p.measures, p.vals,
           p.sample_sizes, p.design_effects, p.effective_sample_sizes
    FROM (
        SELECT project_id, period, min(start_on) AS starts, max(end_on) AS ends,
            coalesce(array_agg(measure ORDER BY measure) FILTER (WHERE group_key = ''), '{}'),
            coalesce(array_agg(value ORDER BY measure) FILTER (WHERE group_key = ''), '{}'),
            coalesce(array_agg(sample_size ORDER BY measure) FILTER (WHERE group_key = ''), '{}'),
            CASE WHEN count(design_effect) FILTER (WHERE group_key = '') > 0 THEN
                array_agg(design_effect ORDER BY measure) FILTER (WHERE group_key = '') END,
            CASE WHEN count(effective_sample_size) FILTER (WHERE group_key = '') > 0 THEN
                array_agg(effective_sample_size ORDER BY measure) FILTER (WHERE group_key = '')
            END
        FROM indicator_values
        WHERE project_id = ANY(changed) AND superseded_at IS NULL
        GROUP BY project_id, period
    ) AS p (project_id, period, starts, ends, measures, vals, sample_sizes, design_effects,
            effective_sample_sizes)
    ORDER BY p.project_id, p.starts DESC, p.ends DESC, p.period COLLATE "C" DESC;
$$
"""

COLUMNS = ("design_effects", "effective_sample_sizes")


def upgrade() -> None:
    for column in COLUMNS:
        op.execute(f"ALTER TABLE latest_totals ALTER COLUMN {column} DROP NOT NULL")
        op.execute(
            f"UPDATE latest_totals SET {column} = NULL "
            f"WHERE NOT EXISTS (SELECT FROM unnest({column}) AS x WHERE x IS NOT NULL)"
        )
    op.execute(REFRESH)


def downgrade() -> None:
    # 0018's function, from its own file (the migrations folder is not a package).
    path = Path(__file__).with_name("0018_latest_totals.py")
    spec = importlib.util.spec_from_file_location("migration_0018", path)
    previous = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(previous)
    op.execute(previous.REFRESH.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    for column in COLUMNS:
        op.execute(
            f"UPDATE latest_totals SET {column} = array_fill(NULL::float8, "
            "ARRAY[cardinality(measures)]) WHERE " + column + " IS NULL"
        )
        op.execute(f"ALTER TABLE latest_totals ALTER COLUMN {column} SET NOT NULL")
