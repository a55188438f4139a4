"""Each project's latest period and that period's totals, kept up to date by statement-level
triggers in the same transaction as every change of its values: a comparison of 100,000
projects reads 100,000 short rows instead of scanning millions of values under a
statement timeout.

The latest period is the metrics library's (``metrics.report._periods``): the one sorting
last by its earliest start, its latest end and its label in code-point order, over all of
the project's current values (groups included); the totals are that period's values
without disaggregation, measure by measure.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

REFRESH = """
CREATE FUNCTION latest_totals_refresh(changed uuid[]) RETURNS void
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
            coalesce(array_agg(design_effect ORDER BY measure) FILTER (WHERE group_key = ''), '{}'),
            coalesce(
                array_agg(effective_sample_size ORDER BY measure) FILTER (WHERE group_key = ''),
                '{}'
            )
        FROM indicator_values
        WHERE project_id = ANY(changed) AND superseded_at IS NULL
        GROUP BY project_id, period
    ) AS p (project_id, period, starts, ends, measures, vals, sample_sizes, design_effects,
            effective_sample_sizes)
    ORDER BY p.project_id, p.starts DESC, p.ends DESC, p.period COLLATE "C" DESC;
$$
"""

CHANGED = {
    "INSERT": "SELECT DISTINCT project_id FROM new_rows",
    "DELETE": "SELECT DISTINCT project_id FROM old_rows",
    "UPDATE": "SELECT project_id FROM old_rows UNION SELECT project_id FROM new_rows",
}
TABLES = {
    "INSERT": "NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def upgrade() -> None:
    op.execute(
        "CREATE TABLE latest_totals ("
        "project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE, "
        "period varchar(64) NOT NULL, "
        "measures varchar(64)[] NOT NULL, "
        "vals float8[] NOT NULL, "
        "sample_sizes integer[] NOT NULL, "
        "design_effects float8[] NOT NULL, "
        "effective_sample_sizes float8[] NOT NULL)"
    )
    op.execute(REFRESH)
    for event, changed in CHANGED.items():
        op.execute(
            f"CREATE FUNCTION latest_totals_after_{event.lower()}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN "
            f"PERFORM latest_totals_refresh(ARRAY({changed})); RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER latest_totals_{event.lower()} AFTER {event} ON indicator_values "
            f"REFERENCING {TABLES[event]} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION latest_totals_after_{event.lower()}()"
        )
    # DELETE, not TRUNCATE: a TRUNCATE ... CASCADE of projects is truncating the table already.
    op.execute(
        "CREATE FUNCTION latest_totals_truncate() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN DELETE FROM latest_totals; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER latest_totals_truncate AFTER TRUNCATE ON indicator_values "
        "FOR EACH STATEMENT EXECUTE FUNCTION latest_totals_truncate()"
    )
    op.execute(
        "SELECT latest_totals_refresh(ARRAY(SELECT DISTINCT project_id FROM indicator_values))"
    )


def downgrade() -> None:
    for event in ("insert", "delete", "update", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS latest_totals_{event} ON indicator_values")
        op.execute(f"DROP FUNCTION IF EXISTS latest_totals_after_{event}()")
    op.execute("DROP FUNCTION IF EXISTS latest_totals_truncate()")
    op.execute("DROP FUNCTION IF EXISTS latest_totals_refresh(uuid[])")
    op.execute("DROP TABLE IF EXISTS latest_totals")
