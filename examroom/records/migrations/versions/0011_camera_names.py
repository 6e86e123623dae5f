"""camera names: the Chinese name people read for each camera, set by an administrator

Revision ID: 0011_camera_names
Revises: 0010_seal_chain
"""
from alembic import op
import sqlalchemy as sa


revision = "0011_camera_names"
down_revision = "0010_seal_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_names",
        sa.Column("camera", sa.String(length=64), primary_key=True),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("named_by", sa.String(length=64), nullable=False),
        sa.Column("named_utc", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("camera_names")
