"""face review: who reviewed a face flag, when, and what they found

Revision ID: 0009_face_review
Revises: 0008_faces
"""
from alembic import op
import sqlalchemy as sa


revision = "0009_face_review"
down_revision = "0008_faces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("face_flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reviewed_utc", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_comment", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("face_flags", schema=None) as batch_op:
        batch_op.drop_column("review_comment")
        batch_op.drop_column("reviewed_utc")
        batch_op.drop_column("reviewed_by")
