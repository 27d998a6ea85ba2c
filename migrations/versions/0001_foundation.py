"""foundation: incidents, reports, audit, tokens, imports

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 23:31:06.465615
"""
from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'analyst', 'operations', 'partner', 'integration')", name=op.f('ck_api_token_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Text(), nullable=False),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index('ix_audit_event_object', 'audit_event', ['object_type', 'object_id'], unique=False)
    op.create_table('import_run',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('rows_read', sa.Integer(), server_default='0', nullable=False),
    sa.Column('inserted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('duplicates', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejected', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejects', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_run'))
    )
    op.create_geospatial_table('incident',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('occurred_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('occurred_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('time_precision', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('location_precision', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('precision_scheme', sa.String(length=16), server_default='kinga', nullable=False),
    sa.Column('location_radius_m', sa.Integer(), server_default='0', nullable=False),
    sa.Column('h3_cell', sa.BigInteger(), nullable=False),
    sa.Column('place_name', sa.Text(), nullable=True),
    sa.Column('admin1', sa.Text(), nullable=True),
    sa.Column('admin2', sa.Text(), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('subcategory', sa.Text(), nullable=True),
    sa.Column('perpetrators', sa.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('perpetrator_type', sa.String(length=32), server_default='unknown', nullable=False),
    sa.Column('fatalities_low', sa.Integer(), nullable=True),
    sa.Column('fatalities_best', sa.Integer(), server_default='0', nullable=False),
    sa.Column('fatalities_high', sa.Integer(), nullable=True),
    sa.Column('injured', sa.Integer(), server_default='0', nullable=False),
    sa.Column('crsv_survivors', sa.Integer(), server_default='0', nullable=False),
    sa.Column('children_affected', sa.Integer(), server_default='0', nullable=False),
    sa.Column('displaced', sa.Integer(), server_default='0', nullable=False),
    sa.Column('narrative', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='entered', nullable=False),
    sa.Column('quality_grade', sa.String(length=1), server_default='c', nullable=False),
    sa.Column('independent_sources', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('external_source', sa.String(length=16), nullable=True),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("category IN ('killing', 'injury', 'abduction', 'sexual_violence', 'looting_destruction', 'displacement', 'attack_on_peacekeepers', 'threat_intimidation', 'armed_group_presence', 'other')", name=op.f('ck_incident_category')),
    sa.CheckConstraint("perpetrator_type IN ('state_force', 'non_state_armed_group', 'community_militia', 'criminal', 'unknown')", name=op.f('ck_incident_perpetrator_type')),
    sa.CheckConstraint("quality_grade IN ('a', 'b', 'c')", name=op.f('ck_incident_quality_grade')),
    sa.CheckConstraint("status IN ('entered', 'validated', 'approved', 'rejected')", name=op.f('ck_incident_status')),
    sa.CheckConstraint('fatalities_best >= 0 AND injured >= 0 AND crsv_survivors >= 0 AND children_affected >= 0 AND displaced >= 0', name=op.f('ck_incident_victims_non_negative')),
    sa.CheckConstraint('occurred_end IS NULL OR occurred_end >= occurred_start', name=op.f('ck_incident_time_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident')),
    sa.UniqueConstraint('external_source', 'external_id', name='uq_incident_external')
    )
    op.create_index('ix_incident_h3_cell', 'incident', ['h3_cell'], unique=False)
    op.create_geospatial_index('ix_incident_location', 'incident', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_incident_occurred_start', 'incident', ['occurred_start'], unique=False)
    op.create_index('ix_incident_order', 'incident', [sa.literal_column('occurred_start DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_table('report',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('incident_id', sa.UUID(), nullable=False),
    sa.Column('section', sa.String(length=32), nullable=False),
    sa.Column('source_name', sa.Text(), nullable=True),
    sa.Column('source_reliability', sa.String(length=1), nullable=False),
    sa.Column('information_credibility', sa.SmallInteger(), nullable=False),
    sa.Column('source_count', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=True),
    sa.Column('reporter_ref', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("section IN ('jmac', 'u2_military', 'civil_affairs', 'human_rights', 'police', 'military_observers', 'humanitarian_partner', 'open_source', 'other')", name=op.f('ck_report_section')),
    sa.CheckConstraint("source_reliability IN ('A','B','C','D','E','F')", name=op.f('ck_report_reliability')),
    sa.CheckConstraint('information_credibility BETWEEN 1 AND 6', name=op.f('ck_report_credibility')),
    sa.CheckConstraint('source_count >= 1', name=op.f('ck_report_source_count')),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_report_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report'))
    )
    op.create_index(op.f('ix_report_incident_id'), 'report', ['incident_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_report_incident_id'), table_name='report')
    op.drop_table('report')
    op.drop_index('ix_incident_order', table_name='incident')
    op.drop_index('ix_incident_occurred_start', table_name='incident')
    op.drop_geospatial_index('ix_incident_location', table_name='incident', postgresql_using='gist', column_name='location')
    op.drop_index('ix_incident_h3_cell', table_name='incident')
    op.drop_geospatial_table('incident')
    op.drop_table('import_run')
    op.drop_index('ix_audit_event_object', table_name='audit_event')
    op.drop_table('audit_event')
    op.drop_table('api_token')
