"""auditors' review marks

Revision ID: 0003_reviews
Revises: 0002_accounts
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_reviews"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reviews") as batch_op:
        batch_op.create_index("ix_reviews_attempt_id", ["attempt_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch_op:
        batch_op.drop_index("ix_reviews_attempt_id")
    op.drop_table("reviews")
