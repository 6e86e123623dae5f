"""evidence seals and releases: each attempt's filed video signed by the course, and its deletion by retention

Revision ID: 0017_evidence_seals
Revises: 0016_city_verification

``evidence_seals`` holds one signed statement per attempt of the video that shows it (per camera:
each segment's file name, start/end UTC, size and SHA-256), bound to the attempt's seal by its
digest (examroom.records.evidence_seals). It is replicated to the city like the seals (keyed by
its course: (course_key, attempt_id) on PostgreSQL with a reference to the same course's attempt;
on SQLite, one course, attempt_id alone) and append-only like them. ``evidence_releases`` holds the course's signed statements that its
evidence retention deleted sealed segment files (replicated, append-only, keyed (course_key, id)).
``video_segments`` (course-only) gets the SHA-256 of each file as it was filed.
"""
from alembic import op
import sqlalchemy as sa


revision = "0017_evidence_seals"
down_revision = "0016_city_verification"
branch_labels = None
depends_on = None

APPEND_ONLY = ("evidence_seals", "evidence_releases")


def upgrade() -> None:
    with op.batch_alter_table("video_segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    code = op.get_context().config.attributes.get("course_code") or ""
    course = sa.Column("course_key", sa.String(length=32), nullable=False,
                       **({} if postgresql else {"server_default": code}))
    key = ([sa.PrimaryKeyConstraint("course_key", "attempt_id"),
            sa.UniqueConstraint("course_key", "seq", name="uq_evidence_seals_seq"),
            sa.ForeignKeyConstraint(["course_key", "attempt_id"], ["attempts.course_key", "attempts.id"])]
           if postgresql else
           [sa.PrimaryKeyConstraint("attempt_id"),
            sa.UniqueConstraint("course_key", "seq", name="uq_evidence_seals_seq"),
            sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"])])
    op.create_table(
        "evidence_seals",
        course,
        sa.Column("attempt_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("sealed_utc", sa.DateTime(timezone=True), nullable=False),
        *key,
    )
    op.create_table(
        "evidence_releases",
        sa.Column("course_key", sa.String(length=32), nullable=False,
                  **({} if postgresql else {"server_default": code})),
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("released_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("course_key", "id") if postgresql else sa.PrimaryKeyConstraint("id"),
    )
    # Append-only, as the seals: the database refuses an UPDATE or DELETE from the application;
    # someone who drops the trigger first is caught by the signature and the chain (examroom verify).
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        elif postgresql:
            # examroom_append_only() is 0004's (journal, seals).
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION examroom_append_only()")


def downgrade() -> None:
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        elif bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.drop_table("evidence_releases")
    op.drop_table("evidence_seals")
    with op.batch_alter_table("video_segments", schema=None) as batch_op:
        batch_op.drop_column("sha256")
