"""rule sets: the effective rule set (version + overrides) stored with every attempt

Revision ID: 0005_rulesets
Revises: 0004_examday
Create Date: 2026-11-29 04:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_rulesets'
down_revision = '0004_examday'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        # scoring.rules.ruleset_to_dict of the rule set that judged the attempt, and its SHA-256:
        # a re-judge uses what applied that day, and a changed snapshot no longer matches its hash.
        batch_op.add_column(sa.Column('rule_set_snapshot', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('rule_set_hash', sa.String(length=64), nullable=True))
        # the effective set's id names its layers ("ga1026-2022+province:…+course:…"): 64 is too short
        batch_op.alter_column('rule_set', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.alter_column('rule_set', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=False)
        batch_op.drop_column('rule_set_hash')
        batch_op.drop_column('rule_set_snapshot')
