"""Search finds an actor by a translated name (``GET /api/v1/actors?q=``): a trigram index
on the names in the translations table, for the same word-similarity match as the
original names' ``ix_actors_name_trgm``.

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_translations_actor_name_trgm ON translations "
        "USING gin ((texts ->> 'name') gin_trgm_ops) WHERE target_type = 'actor'"
    )


def downgrade() -> None:
    op.drop_index("ix_translations_actor_name_trgm", table_name="translations")
