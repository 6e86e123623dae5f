"""the city's continuous verification of the evidence seals and releases: what it verified

Revision ID: 0018_city_evidence_verification
Revises: 0017_evidence_seals

City-side tables (docs/city-warnings.md), not replicated (no ``course_key`` column), as 0016's:
every evidence seal the city's verification pass checked (per course: its number, attempt, the
evidence seal's digest then: where the course's evidence chain was verified up to, and what an
evidence seal gone or changed since is compared with), and every evidence release it checked (its
id, digest then, and the attempts it names, which stay known if the release goes). The pass's
results go to 0016's ``city_verify_results``, which gets a ``kind`` column: ``seals`` (every row
before), ``evidence`` or ``releases`` (a chain's name is the course layout's, any string, so the
chain column cannot tell them apart). Append-only: what was verified, and what was found, is kept.
"""
from alembic import op
import sqlalchemy as sa


revision = "0018_city_evidence_verification"
down_revision = "0017_evidence_seals"
branch_labels = None
depends_on = None

APPEND_ONLY = ("city_verified_evidence", "city_verified_releases")


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without touching a row (the append-only
    # trigger does not fire), SQLite by ALTER TABLE ADD COLUMN.
    op.add_column("city_verify_results", sa.Column("kind", sa.String(length=16), nullable=False,
                                                   server_default="seals"))
    op.create_table(
        "city_verified_evidence",
        sa.Column("course_code", sa.String(length=32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("result_id", sa.Integer(), sa.ForeignKey("city_verify_results.id"), nullable=False),
    )
    op.create_table(
        "city_verified_releases",
        sa.Column("course_code", sa.String(length=32), primary_key=True),
        sa.Column("release_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.JSON(), nullable=False),
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
    op.drop_table("city_verified_releases")
    op.drop_table("city_verified_evidence")
    with op.batch_alter_table("city_verify_results", schema=None) as batch_op:
        batch_op.drop_column("kind")
