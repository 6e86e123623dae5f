"""video: segments, evidence links, video events, export jobs

Revision ID: 0006_video
Revises: 0005_rulesets
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_video'
down_revision = '0005_rulesets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('video_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('start_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('path')
    )
    op.create_index('ix_video_segments_camera_start', 'video_segments', ['camera', 'start_utc'])
    op.create_table('video_evidence',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ),
    sa.ForeignKeyConstraint(['segment_id'], ['video_segments.id'], ),
    sa.PrimaryKeyConstraint('attempt_id', 'segment_id')
    )
    op.create_table('video_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('start_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_video_events_camera_start', 'video_events', ['camera', 'start_utc'])
    op.create_table('video_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera', sa.String(length=32), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('start_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('overlay', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_utc', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('video_exports')
    op.drop_index('ix_video_events_camera_start', table_name='video_events')
    op.drop_table('video_events')
    op.drop_table('video_evidence')
    op.drop_index('ix_video_segments_camera_start', table_name='video_segments')
    op.drop_table('video_segments')
