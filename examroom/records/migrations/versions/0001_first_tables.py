"""first tables: candidates, vehicles, attempts, deductions, journal

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 03:45:39.301680
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_number', sa.String(length=32), nullable=False),
    sa.Column('exam_number', sa.String(length=32), nullable=False),
    sa.Column('vehicle_class', sa.String(length=4), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('exam_number')
    )
    op.create_table('vehicles',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('plate', sa.String(length=32), nullable=False),
    sa.Column('vehicle_class', sa.String(length=4), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('vehicle_id', sa.String(length=32), nullable=False),
    sa.Column('vehicle_class', sa.String(length=4), nullable=False),
    sa.Column('course', sa.String(length=64), nullable=False),
    sa.Column('rule_set', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('checked_in_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], ),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_status', ['status'], unique=False)

    op.create_table('deductions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('disqualify', sa.Boolean(), nullable=False),
    sa.Column('item', sa.String(length=32), nullable=False),
    sa.Column('t', sa.Float(), nullable=False),
    sa.Column('utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deductions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deductions_attempt_id'), ['attempt_id'], unique=False)

    op.create_table('journal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('t', sa.Float(), nullable=False),
    sa.Column('utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('attempt_id', 'seq', name='uq_journal_attempt_seq')
    )


def downgrade() -> None:
    op.drop_table('journal')
    with op.batch_alter_table('deductions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deductions_attempt_id'))

    op.drop_table('deductions')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_status')

    op.drop_table('attempts')
    op.drop_table('vehicles')
    op.drop_table('candidates')
