"""A proposal that lowers an actor's privacy waits for its manager's consent: the state
``awaiting_consent`` and the contribution's ``privacy`` mark (what it lowers, consent).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new enum value may be added in a transaction as long as it is not used in it.
    op.execute("ALTER TYPE contribution_state ADD VALUE IF NOT EXISTS 'awaiting_consent'")
    op.add_column(
        "contributions",
        sa.Column("privacy", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value; awaiting_consent stays, unused.
    op.drop_column("contributions", "privacy")
