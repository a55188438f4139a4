"""Actors and the theme vocabulary.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 02:34:53.459663
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


THEMES = [
    ("violence", "Violence", "framework", "Levels and experience of violence and safety."),
    ("legitimacy", "Legitimacy", "framework", "Trust in and responsiveness of institutions."),
    ("polarisation", "Polarisation", "framework", "Divisions between groups; dehumanisation."),
    ("agency", "Agency", "framework", "People's sense that they can shape their lives and society."),
    ("investment", "Investment in peace", "framework", "Time and resources invested in peace."),
    ("gender", "Gender", "sector", "Women, peace and security; gender-based violence."),
    ("youth", "Youth", "sector", "Young people in peace and security."),
    ("climate_environment", "Climate and environment", "sector", "Climate, environment and conflict."),
    ("child_protection", "Child protection", "sector", "Protecting children in and after conflict."),
    ("preventing_violent_extremism", "Preventing violent extremism", "sector", "Prevention of violent extremism and radicalisation."),
    ("education", "Education", "sector", "Peace education and education in emergencies."),
    ("transitional_justice", "Transitional justice", "sector", "Truth, justice, reparation and memory."),
    ("mediation_dialogue", "Mediation and dialogue", "sector", "Mediation, negotiation and dialogue processes."),
    ("human_rights", "Human rights", "sector", "Human rights monitoring and defence."),
    ("governance", "Governance", "sector", "Local governance, rule of law and public services."),
    ("livelihoods", "Livelihoods", "sector", "Economic recovery and livelihoods."),
    ("land_natural_resources", "Land and natural resources", "sector", "Land, water and resource conflicts."),
    ("media_information", "Media and information", "sector", "Media, misinformation and hate speech."),
    ("psychosocial", "Psychosocial support", "sector", "Trauma healing and mental health."),
    ("security_disarmament", "Security and disarmament", "sector", "DDR, small arms and community security."),
    ("interfaith", "Religion and interfaith", "sector", "Faith actors and interreligious dialogue."),
    ("displacement", "Displacement", "sector", "Refugees, internally displaced people and return."),
    ("research_evaluation", "Research and evaluation", "sector", "Research, monitoring and evaluation of peace work."),
]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('actors',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Enum('organisation', 'practitioner', 'academic', 'network', 'funder', 'government', 'media', name='actor_kind'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=500), server_default='', nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('website', sa.String(length=2000), nullable=True),
    sa.Column('links', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('contact', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('working_languages', sa.ARRAY(sa.String(length=35)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('themes', sa.ARRAY(sa.String(length=64)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('location', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('location_precision', sa.Enum('exact', 'locality', 'region', 'country', name='location_precision'), nullable=False),
    sa.Column('public_location', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('countries', sa.ARRAY(sa.String(length=2)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('area', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('founded_year', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'published', 'archived', name='actor_status'), nullable=False),
    sa.Column('verified', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('simple', name), 'A') || setweight(to_tsvector('simple', coalesce(summary, '')), 'B')", persisted=True), nullable=False),
    sa.CheckConstraint('founded_year BETWEEN 1800 AND 2100', name=op.f('ck_actors_founded_year_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actors'))
    )
    op.create_index('ix_actors_area', 'actors', ['area'], unique=False, postgresql_using='gist')
    op.create_index('ix_actors_countries', 'actors', ['countries'], unique=False, postgresql_using='gin')
    op.create_index('ix_actors_country', 'actors', ['country'], unique=False)
    op.create_index('ix_actors_name_trgm', 'actors', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.create_index('ix_actors_public_geography', 'actors', [sa.literal_column('(public_location::geography)')], unique=False, postgresql_using='gist')
    op.create_index('ix_actors_public_location', 'actors', ['public_location'], unique=False, postgresql_using='gist')
    op.create_index('ix_actors_search_vector', 'actors', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_actors_status_name', 'actors', ['status', 'name', 'id'], unique=False)
    op.create_index('ix_actors_status_updated', 'actors', ['status', 'updated_at', 'id'], unique=False)
    op.create_index('ix_actors_themes', 'actors', ['themes'], unique=False, postgresql_using='gin')
    op.create_index('ix_actors_working_languages', 'actors', ['working_languages'], unique=False, postgresql_using='gin')
    op.create_table('themes',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('group', sa.Enum('framework', 'sector', name='theme_group'), nullable=False),
    sa.Column('description', sa.String(length=500), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_themes'))
    )
    themes = sa.table(
        "themes", sa.column("key"), sa.column("label"), sa.column("group"), sa.column("description")
    )
    op.bulk_insert(
        themes,
        [dict(zip(("key", "label", "group", "description"), row, strict=True)) for row in THEMES],
    )


def downgrade() -> None:
    op.drop_table('themes')
    op.drop_index('ix_actors_working_languages', table_name='actors', postgresql_using='gin')
    op.drop_index('ix_actors_themes', table_name='actors', postgresql_using='gin')
    op.drop_index('ix_actors_status_updated', table_name='actors')
    op.drop_index('ix_actors_status_name', table_name='actors')
    op.drop_index('ix_actors_search_vector', table_name='actors', postgresql_using='gin')
    op.drop_index('ix_actors_public_location', table_name='actors', postgresql_using='gist')
    op.drop_index('ix_actors_public_geography', table_name='actors', postgresql_using='gist')
    op.drop_index('ix_actors_name_trgm', table_name='actors', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.drop_index('ix_actors_country', table_name='actors')
    op.drop_index('ix_actors_countries', table_name='actors', postgresql_using='gin')
    op.drop_index('ix_actors_area', table_name='actors', postgresql_using='gist')
    op.drop_table('actors')
    for enum in ("theme_group", "actor_status", "location_precision", "actor_kind"):
        op.execute(f"DROP TYPE IF EXISTS {enum}")
