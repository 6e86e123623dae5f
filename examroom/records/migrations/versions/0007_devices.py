"""sitting checks: pre-sitting device self-checks and their overrides

Revision ID: 0007_devices
Revises: 0006_video
Create Date: 2026-11-29 04:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_devices'
down_revision = '0006_video'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sitting_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('override_actor', sa.String(length=64), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('override_utc', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sitting_checks_finished', 'sitting_checks', ['finished_utc'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sitting_checks_finished', table_name='sitting_checks')
    op.drop_table('sitting_checks')
