"""the city's continuous verification: course keys it registered, seals it verified, results

Revision ID: 0016_city_verification
Revises: 0015_city_review

City-side tables (docs/city-warnings.md), not replicated (no ``course_key`` column), as 0015's:
each course's public seal keys as the city registered them (``examroom city key``; the city
verifies against these, never against the keys a course's database sends), every seal the city's
verification pass checked (its digest then: where each chain was verified up to, and what a seal
gone or changed since is compared with), and each pass's result per course and chain (the seal
numbers checked, the problems found and the attempts behind them). Keys and results are
append-only: a problem found is evidence, kept.
"""
from alembic import op
import sqlalchemy as sa


revision = "0016_city_verification"
down_revision = "0015_city_review"
branch_labels = None
depends_on = None

APPEND_ONLY = ("city_course_keys", "city_verify_results", "city_verified_seals")


def upgrade() -> None:
    op.create_table(
        "city_course_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("course_code", sa.String(length=32), nullable=False, index=True),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_utc", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("course_code", "key_id", name="uq_city_course_keys_key"),
    )
    op.create_table(
        "city_verify_results",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("course_code", sa.String(length=32), nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("from_seq", sa.Integer(), nullable=True),
        sa.Column("to_seq", sa.Integer(), nullable=True),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.JSON(), nullable=False),
        sa.Column("started_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_utc", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_city_verify_results_course_chain", "city_verify_results", ["course_code", "chain", "id"])
    op.create_table(
        "city_verified_seals",
        sa.Column("course_code", sa.String(length=32), primary_key=True),
        sa.Column("chain", sa.String(length=64), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("result_id", sa.Integer(), sa.ForeignKey("city_verify_results.id"), nullable=False),
    )
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        else:  # examroom_city_append_only() is 0015's
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
    op.drop_table("city_verified_seals")
    op.drop_index("ix_city_verify_results_course_chain", table_name="city_verify_results")
    op.drop_table("city_verify_results")
    op.drop_table("city_course_keys")
