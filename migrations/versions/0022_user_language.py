"""The language an account's mails are written in: chosen on the page the account was made
on (or the sign-up request's Accept-Language), changed with the web pages' switcher.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("language", sa.String(8), nullable=False, server_default="en")
    )


def downgrade() -> None:
    op.drop_column("users", "language")
