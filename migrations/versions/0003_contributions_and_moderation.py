"""Contributions and moderation: resources, observations, contributions, flags,
translations, revisions, the append-only moderation log and idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 03:01:27.406079
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('moderation_log',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('moderator_id', sa.UUID(), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('contribution_id', sa.UUID(), nullable=True),
    sa.Column('target_type', sa.String(length=20), nullable=True),
    sa.Column('target_id', sa.UUID(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_log'))
    )
    op.create_index(op.f('ix_moderation_log_at'), 'moderation_log', ['at'], unique=False)
    op.create_index(op.f('ix_moderation_log_contribution_id'), 'moderation_log', ['contribution_id'], unique=False)
    op.create_index(op.f('ix_moderation_log_moderator_id'), 'moderation_log', ['moderator_id'], unique=False)
    op.create_index(op.f('ix_moderation_log_target_id'), 'moderation_log', ['target_id'], unique=False)
    op.create_table('resources',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('type', sa.Enum('report', 'evaluation', 'brief', 'tool', 'dataset', 'lesson_from_failure', name='resource_type'), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), server_default='', nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('themes', postgresql.ARRAY(sa.String(length=64)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('countries', postgresql.ARRAY(sa.String(length=2)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('area', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('author_actor_ids', postgresql.ARRAY(sa.UUID()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', coalesce(summary, '')), 'B')", persisted=True), nullable=False),
    sa.Column('hidden', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('disclaimers', postgresql.ARRAY(sa.String(length=32)), server_default=sa.text("'{}'"), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resources'))
    )
    op.create_index('ix_resources_area', 'resources', ['area'], unique=False, postgresql_using='gist')
    op.create_index('ix_resources_countries', 'resources', ['countries'], unique=False, postgresql_using='gin')
    op.create_index('ix_resources_search_vector', 'resources', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_resources_themes', 'resources', ['themes'], unique=False, postgresql_using='gin')
    op.create_index('ix_resources_updated', 'resources', ['updated_at', 'id'], unique=False)
    op.create_table('contributions',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Enum('new_actor', 'actor_edit', 'new_resource', 'new_observation', 'translation', 'flag_review', name='contribution_kind'), nullable=False),
    sa.Column('state', sa.Enum('submitted', 'in_review', 'approved', 'rejected', 'changes_requested', 'withdrawn', name='contribution_state'), server_default='submitted', nullable=False),
    sa.Column('author_id', sa.UUID(), nullable=True),
    sa.Column('target_type', sa.String(length=20), nullable=True),
    sa.Column('target_id', sa.UUID(), nullable=True),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('base_snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('themes', postgresql.ARRAY(sa.String(length=64)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('public_location', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('duplicates', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('claimed_by', sa.UUID(), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.UUID(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_contributions_author_id_users')),
    sa.ForeignKeyConstraint(['claimed_by'], ['users.id'], name=op.f('fk_contributions_claimed_by_users')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_contributions_decided_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contributions'))
    )
    op.create_index('ix_contributions_author', 'contributions', ['author_id', 'created_at'], unique=False)
    op.create_index('ix_contributions_queue', 'contributions', ['state', 'submitted_at', 'id'], unique=False)
    op.create_index('ix_contributions_target', 'contributions', ['target_type', 'target_id'], unique=False)
    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('observations',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('themes', postgresql.ARRAY(sa.String(length=64)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.Column('author_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('location', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('public_location', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('location_precision', postgresql.ENUM(name='location_precision', create_type=False), nullable=False),
    sa.Column('hidden', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('disclaimers', postgresql.ARRAY(sa.String(length=32)), server_default=sa.text("'{}'"), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_observations_actor_id_actors')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_observations_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observations'))
    )
    op.create_index('ix_observations_observed_on', 'observations', ['observed_on', 'id'], unique=False)
    op.create_index('ix_observations_public_location', 'observations', ['public_location'], unique=False, postgresql_using='gist')
    op.create_index('ix_observations_themes', 'observations', ['themes'], unique=False, postgresql_using='gin')
    op.create_table('flags',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('target_type', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.UUID(), nullable=False),
    sa.Column('reporter_id', sa.UUID(), nullable=False),
    sa.Column('reason', sa.Enum('misinformation', 'harmful', 'endangers_someone', 'spam', 'duplicate', 'outdated', 'other', name='flag_reason'), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('state', sa.Enum('open', 'resolved', name='flag_state'), server_default='open', nullable=False),
    sa.Column('resolution', sa.String(length=20), nullable=True),
    sa.Column('review_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_flags_reporter_id_users')),
    sa.ForeignKeyConstraint(['review_id'], ['contributions.id'], name=op.f('fk_flags_review_id_contributions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flags'))
    )
    op.create_index('ix_flags_target', 'flags', ['target_type', 'target_id', 'state'], unique=False)
    op.create_index('uq_flags_open_per_reporter', 'flags', ['target_type', 'target_id', 'reporter_id'], unique=True, postgresql_where=sa.text("state = 'open'"))
    op.create_table('revisions',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('target_type', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.UUID(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('author_id', sa.UUID(), nullable=True),
    sa.Column('approved_by', sa.UUID(), nullable=True),
    sa.Column('contribution_id', sa.UUID(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'], name=op.f('fk_revisions_approved_by_users')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_revisions_author_id_users')),
    sa.ForeignKeyConstraint(['contribution_id'], ['contributions.id'], name=op.f('fk_revisions_contribution_id_contributions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revisions')),
    sa.UniqueConstraint('target_type', 'target_id', 'number', name=op.f('uq_revisions_target_type'))
    )
    op.create_table('translations',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('target_type', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.UUID(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('texts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('contribution_id', sa.UUID(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['contribution_id'], ['contributions.id'], name=op.f('fk_translations_contribution_id_contributions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translations')),
    sa.UniqueConstraint('target_type', 'target_id', 'language', name=op.f('uq_translations_target_type'))
    )
    op.add_column('actors', sa.Column('hidden', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('actors', sa.Column('disclaimers', postgresql.ARRAY(sa.String(length=32)), server_default=sa.text("'{}'"), nullable=False))
    # refuse_change() comes from 0002: the moderation log is append-only too.
    op.execute(
        "CREATE TRIGGER moderation_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON moderation_log FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS moderation_log_append_only ON moderation_log")
    op.drop_column('actors', 'disclaimers')
    op.drop_column('actors', 'hidden')
    op.drop_table('translations')
    op.drop_table('revisions')
    op.drop_index('uq_flags_open_per_reporter', table_name='flags', postgresql_where=sa.text("state = 'open'"))
    op.drop_index('ix_flags_target', table_name='flags')
    op.drop_table('flags')
    op.drop_index('ix_observations_themes', table_name='observations', postgresql_using='gin')
    op.drop_index('ix_observations_public_location', table_name='observations', postgresql_using='gist')
    op.drop_index('ix_observations_observed_on', table_name='observations')
    op.drop_table('observations')
    op.drop_table('idempotency_keys')
    op.drop_index('ix_contributions_target', table_name='contributions')
    op.drop_index('ix_contributions_queue', table_name='contributions')
    op.drop_index('ix_contributions_author', table_name='contributions')
    op.drop_table('contributions')
    op.drop_index('ix_resources_updated', table_name='resources')
    op.drop_index('ix_resources_themes', table_name='resources', postgresql_using='gin')
    op.drop_index('ix_resources_search_vector', table_name='resources', postgresql_using='gin')
    op.drop_index('ix_resources_countries', table_name='resources', postgresql_using='gin')
    op.drop_index('ix_resources_area', table_name='resources', postgresql_using='gist')
    op.drop_table('resources')
    op.drop_index(op.f('ix_moderation_log_target_id'), table_name='moderation_log')
    op.drop_index(op.f('ix_moderation_log_moderator_id'), table_name='moderation_log')
    op.drop_index(op.f('ix_moderation_log_contribution_id'), table_name='moderation_log')
    op.drop_index(op.f('ix_moderation_log_at'), table_name='moderation_log')
    op.drop_table('moderation_log')
    for enum in ("flag_state", "flag_reason", "contribution_state", "contribution_kind", "resource_type"):
        op.execute(f"DROP TYPE IF EXISTS {enum}")
