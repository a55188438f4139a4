"""Projects can be hidden and carry disclaimers (flags reach them); flag reviews can be
urgent (someone may be in danger and the flag could not hide the item at once).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "projects",
        sa.Column("hidden", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "projects",
        sa.Column(
            "disclaimers",
            postgresql.ARRAY(sa.String(length=32)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.add_column(
        "contributions",
        sa.Column("urgent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    # Reporters' records (confirmed and dismissed flags, flags of the day) are read per flag.
    op.create_index("ix_flags_reporter", "flags", ["reporter_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_flags_reporter", table_name="flags")
    op.drop_column("contributions", "urgent")
    op.drop_column("projects", "disclaimers")
    op.drop_column("projects", "hidden")
