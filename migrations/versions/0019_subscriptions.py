"""Push instead of polling: subscriptions, their deliveries and attempts (the delivery
log), and the job queue the worker runs them from (procrastinate's schema, as the
procrastinate version pinned in pyproject.toml ships it; a later procrastinate release
brings its own migrations, applied by a migration of ours).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2.types import Geometry
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects.postgresql import UUID

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id", UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("actor_id", UUID(as_uuid=True), sa.ForeignKey("actors.id", ondelete="CASCADE")),
        sa.Column("topic", sa.String(20), nullable=False),
        sa.Column("area", Geometry("MULTIPOLYGON", srid=4326)),
        sa.Column("country", sa.String(2)),
        sa.Column("theme", sa.String(64)),
        sa.Column("url", sa.String(2000)),
        sa.Column("secret", sa.LargeBinary()),
        sa.Column("digest", sa.String(10)),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_digest_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("topic IN ('contributions', 'actors', 'library')", name="topic"),
        sa.CheckConstraint("digest IN ('daily', 'weekly')", name="digest"),
        sa.CheckConstraint("(url IS NULL) <> (digest IS NULL)", name="one_channel"),
        sa.CheckConstraint("(url IS NULL) = (secret IS NULL)", name="secret_with_url"),
    )
    op.create_index("ix_subscriptions_user_id", "subscriptions", ["user_id"])
    op.create_index("ix_subscriptions_actor_id", "subscriptions", ["actor_id"])
    op.create_index(
        "ix_subscriptions_topic_active",
        "subscriptions",
        ["topic"],
        postgresql_where=sa.text("NOT paused"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "subscription_id",
            UUID(as_uuid=True),
            sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("target_type", sa.String(20), nullable=False),
        sa.Column("target_id", UUID(as_uuid=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("response_code", sa.Integer()),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('pending', 'retrying', 'delivered', 'digested', 'failed', 'dropped')",
            name="status",
        ),
    )
    op.create_index(
        "ix_deliveries_subscription_occurred", "deliveries", ["subscription_id", "occurred_at"]
    )
    op.create_index(
        "ix_deliveries_status",
        "deliveries",
        ["status"],
        postgresql_where=sa.text("status IN ('pending', 'retrying')"),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "delivery_id",
            UUID(as_uuid=True),
            sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("response_code", sa.Integer()),
        sa.Column("error", sa.String(200)),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
    )
    op.create_index("ix_delivery_attempts_delivery_id", "delivery_attempts", ["delivery_id"])
    # Straight to the driver, without parameters: the schema's SQL has colons and percent
    # signs of its own.
    with op.get_bind().connection.dbapi_connection.cursor() as cursor:
        cursor.execute(SchemaManager.get_schema())


def downgrade() -> None:
    op.get_bind().exec_driver_sql(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
        "procrastinate_jobs, procrastinate_workers CASCADE"
    )
    op.drop_table("delivery_attempts")
    op.drop_table("deliveries")
    op.drop_table("subscriptions")
