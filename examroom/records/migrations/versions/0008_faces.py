"""faces: pictures of the candidate without exactly one face, for review

Revision ID: 0008_faces
Revises: 0007_devices
"""
from alembic import op
import sqlalchemy as sa


revision = "0008_faces"
down_revision = "0007_devices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"]),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_face_flags_attempt_utc", "face_flags", ["attempt_id", "utc"])


def downgrade() -> None:
    op.drop_index("ix_face_flags_attempt_utc", table_name="face_flags")
    op.drop_table("face_flags")
