"""Projects of organisations, their own indicators and the indicator values they post.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 03:19:48.856832
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('projects',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('countries', postgresql.ARRAY(sa.String(length=2)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('area', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('population', sa.BigInteger(), nullable=True),
    sa.Column('start_on', sa.Date(), nullable=True),
    sa.Column('end_on', sa.Date(), nullable=True),
    sa.Column('themes', postgresql.ARRAY(sa.String(length=64)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', name='project_status'), server_default='draft', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_projects_actor_id_actors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects'))
    )
    op.create_index(op.f('ix_projects_actor_id'), 'projects', ['actor_id'], unique=False)
    op.create_index('ix_projects_area', 'projects', ['area'], unique=False, postgresql_using='gist')
    op.create_index('ix_projects_countries', 'projects', ['countries'], unique=False, postgresql_using='gin')
    op.create_index('ix_projects_themes', 'projects', ['themes'], unique=False, postgresql_using='gin')
    op.create_table('indicator_values',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('measure', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=64), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('sample_size', sa.Integer(), nullable=True),
    sa.Column('disaggregation', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('group_key', sa.String(length=500), server_default='', nullable=False),
    sa.Column('pillar', sa.String(length=40), nullable=False),
    sa.Column('paired', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('source', sa.Text(), server_default='', nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_indicator_values_created_by_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_indicator_values_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values'))
    )
    op.create_index('ix_indicator_values_project', 'indicator_values', ['project_id', 'superseded_at'], unique=False)
    op.create_index('uq_indicator_values_current', 'indicator_values', ['project_id', 'measure', 'period', 'group_key'], unique=True, postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_table('project_indicators',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('definition', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_indicators_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'key', name=op.f('pk_project_indicators'))
    )


def downgrade() -> None:
    op.drop_table('project_indicators')
    op.drop_index('uq_indicator_values_current', table_name='indicator_values', postgresql_where=sa.text('superseded_at IS NULL'))
    op.drop_index('ix_indicator_values_project', table_name='indicator_values')
    op.drop_table('indicator_values')
    op.drop_index('ix_projects_themes', table_name='projects', postgresql_using='gin')
    op.drop_index('ix_projects_countries', table_name='projects', postgresql_using='gin')
    op.drop_index('ix_projects_area', table_name='projects', postgresql_using='gist')
    op.drop_index(op.f('ix_projects_actor_id'), table_name='projects')
    op.drop_table('projects')
    op.execute("DROP TYPE IF EXISTS project_status")
