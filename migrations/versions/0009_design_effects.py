"""Design effects: a survey value may carry its design effect or its effective sample size,
which its intervals and tests then use (cluster and weighted surveys).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("indicator_values", sa.Column("design_effect", sa.Float(), nullable=True))
    op.add_column(
        "indicator_values", sa.Column("effective_sample_size", sa.Float(), nullable=True)
    )
    op.create_check_constraint(
        "design_effect_or_effective_size",
        "indicator_values",
        "(design_effect IS NULL OR design_effect > 0) "
        "AND (effective_sample_size IS NULL OR effective_sample_size > 0) "
        "AND (design_effect IS NULL OR effective_sample_size IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint("design_effect_or_effective_size", "indicator_values", type_="check")
    op.drop_column("indicator_values", "effective_sample_size")
    op.drop_column("indicator_values", "design_effect")
