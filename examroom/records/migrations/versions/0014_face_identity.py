"""face identity: booking reference photos and descriptors, 1:1 checks and their decisions, deletion

Revision ID: 0014_face_identity
Revises: 0013_course_keys

Each booking may carry a reference photo (from the roster, or the first check-in's photo as the
supervisor confirmed it) and its face descriptor. ``identity_checks`` holds every 1:1 comparison
that needs a person or an auditor: a check-in's outcome with the supervisor's decision, and a run
of in-cab mismatches. ``face_flags`` say why they were raised (the face count, or a mismatch) and
with which distance. Pictures are personal data: when their retention ends they are deleted and
only their SHA-256 (and a photo's size) stay, which is what the seals name.
"""
from alembic import op
import sqlalchemy as sa


revision = "0014_face_identity"
down_revision = "0013_course_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference_photo", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("reference_sha256", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("reference_source", sa.String(length=16), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("reference_confirmed_by", sa.String(length=64), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("face_descriptor", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("face_model", sa.String(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("photo_bytes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("personal_data_deleted_utc", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("face_flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=16), nullable=False, server_default="faces"))
        batch_op.add_column(sa.Column("distance", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("jpeg_sha256", sa.String(length=64), nullable=False, server_default=""))
    # Replicated like the tables 0013 keyed: (course_key, id) on PostgreSQL with references to the
    # same course's booking and attempt; on SQLite (one course) id stays the INTEGER PRIMARY KEY.
    postgresql = op.get_bind().dialect.name == "postgresql"
    code = op.get_context().config.attributes.get("course_code") or ""
    course = sa.Column("course_key", sa.String(length=32), nullable=False,
                       **({} if postgresql else {"server_default": code}))
    key = ([sa.PrimaryKeyConstraint("course_key", "id"),
            sa.ForeignKeyConstraint(["course_key", "booking_id"], ["bookings.course_key", "bookings.id"]),
            sa.ForeignKeyConstraint(["course_key", "attempt_id"], ["attempts.course_key", "attempts.id"])]
           if postgresql else
           [sa.PrimaryKeyConstraint("id"),
            sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"]),
            sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"])])
    op.create_table(
        "identity_checks",
        course,
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("unclear", sa.String(length=16), nullable=False, server_default=""),
        sa.Column("distance", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("model", sa.String(length=32), nullable=False, server_default=""),
        sa.Column("frames", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("picture", sa.LargeBinary(), nullable=True),
        sa.Column("picture_sha256", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("decision", sa.String(length=16), nullable=False, server_default=""),
        sa.Column("decided_by", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("decided_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("frame_sha256s", sa.JSON(), nullable=True),
        *key,
    )
    op.create_index("ix_identity_checks_booking", "identity_checks", ["course_key", "booking_id", "utc"])
    op.create_index("ix_identity_checks_attempt", "identity_checks", ["course_key", "attempt_id"])


def downgrade() -> None:
    op.drop_index("ix_identity_checks_attempt", table_name="identity_checks")
    op.drop_index("ix_identity_checks_booking", table_name="identity_checks")
    op.drop_table("identity_checks")
    with op.batch_alter_table("face_flags", schema=None) as batch_op:
        batch_op.drop_column("jpeg_sha256")
        batch_op.drop_column("distance")
        batch_op.drop_column("reason")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        for column in ("personal_data_deleted_utc", "photo_bytes", "face_model", "face_descriptor",
                       "reference_confirmed_by", "reference_source", "reference_sha256", "reference_photo"):
            batch_op.drop_column(column)
