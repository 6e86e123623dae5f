"""the city's random review (抽检) and its record of seen seal-chain heads

Revision ID: 0015_city_review
Revises: 0014_face_identity

City-side tables (docs/city-sampling.md): a week's draw (the seed's commitment, then the seed,
and each course's population digest), the attempts it sampled and why, their assignments to
inspectors, the inspectors' outcomes, and the seal-chain heads the city has seen of each course
(a head that later goes backwards is a warning). They are made by the same migrations everywhere
(one schema), but only the city writes them, and they are **not replicated**: they carry no
``course_key`` column (which is what names a table replicated: ``records.database.keyed_tables``);
the course of a sampled attempt is in ``course_code``. Outcomes are append-only, as the audit log.
"""
from alembic import op
import sqlalchemy as sa


revision = "0015_city_review"
down_revision = "0014_face_identity"
branch_labels = None
depends_on = None

APPEND_ONLY = ("city_review_outcomes", "city_assignments")


def upgrade() -> None:
    op.create_table(
        "city_draws",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("week", sa.String(length=8), nullable=False, unique=True),  # ISO week, "2026-W49"
        sa.Column("starts_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),  # sha256 of the seed, published first
        sa.Column("committed_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=True),  # hex; shown only once revealed
        sa.Column("beacon", sa.Text(), nullable=False, server_default=""),  # optional public value mixed in
        sa.Column("revealed_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=True),  # the share and classes the draw used
        sa.Column("populations", sa.JSON(), nullable=True),  # per course: attempts considered and their digest
    )
    op.create_table(
        "city_samples",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("draw_id", sa.Integer(), sa.ForeignKey("city_draws.id"), nullable=False),
        sa.Column("course_code", sa.String(length=32), nullable=False),  # the attempt's course_key
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),  # "share" and/or the mandatory classes
        sa.Column("ticket", sa.String(length=64), nullable=False),  # the draw's number for it (hex)
        sa.UniqueConstraint("draw_id", "course_code", "attempt_id", name="uq_city_samples_attempt"),
    )
    op.create_table(
        "city_assignments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sample_id", sa.Integer(), sa.ForeignKey("city_samples.id"), nullable=False, index=True),
        sa.Column("inspector", sa.String(length=64), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("assigned_utc", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "city_review_outcomes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sample_id", sa.Integer(), sa.ForeignKey("city_samples.id"), nullable=False, index=True),
        sa.Column("inspector", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),  # consistent | doubtful | wrong
        sa.Column("notes", sa.Text(), nullable=False, server_default=""),
        sa.Column("utc", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "city_seen_heads",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("course_code", sa.String(length=32), nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_utc", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_city_seen_heads_course_chain", "city_seen_heads", ["course_code", "chain", "seq"])
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        else:
            op.execute("CREATE OR REPLACE FUNCTION examroom_city_append_only() RETURNS trigger LANGUAGE plpgsql "
                       "AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$")
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION examroom_city_append_only()")


def downgrade() -> None:
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    if bind.dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS examroom_city_append_only()")
    op.drop_index("ix_city_seen_heads_course_chain", table_name="city_seen_heads")
    for table in ("city_seen_heads", "city_review_outcomes", "city_assignments", "city_samples", "city_draws"):
        op.drop_table(table)
