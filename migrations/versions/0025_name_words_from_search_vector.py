"""Text search's first tier, the name's words, read from the stored search vector (its
weight-A lexemes: the name) instead of parsing the name again: walking the names in order
for a word that one actor in a hundred has, the parse was three quarters of the time
(90 ms of 120 at a million actors). The index follows the expression.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_actors_name_words", table_name="actors")
    op.execute(
        "CREATE INDEX ix_actors_name_words ON actors USING gin (ts_filter(search_vector, '{a}'))"
    )
    op.execute("ANALYZE actors")


def downgrade() -> None:
    op.drop_index("ix_actors_name_words", table_name="actors")
    op.execute(
        "CREATE INDEX ix_actors_name_words ON actors USING gin (to_tsvector('simple', name))"
    )
