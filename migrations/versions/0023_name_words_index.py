"""Text search puts actors whose name holds every word of ``q`` first (README, "Text
search"): a GIN index on the name's own words, so that a rare word finds its name matches
through the index, and ANALYZE keeps statistics on the expression, so that the planner
knows a broad word (a fifth of the map) is better served by walking the names in order and
stopping at the page's end.

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_actors_name_words ON actors USING gin (to_tsvector('simple', name))"
    )
    op.execute("ANALYZE actors")


def downgrade() -> None:
    op.drop_index("ix_actors_name_words", table_name="actors")
