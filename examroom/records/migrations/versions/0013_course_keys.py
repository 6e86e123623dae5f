"""the course code in every replicated record's key; 64-bit journal ids on PostgreSQL

Revision ID: 0013_course_keys
Revises: 0012_login_sessions

Every table a course replicates to the city gets ``course_key`` (the course's 考场代码; the
sittings' own ``course_code`` is the code a sitting was booked under), and its identity becomes
(course_key, id) (docs/city.md). Existing rows get the code ``upgrade``
was given (``config.attributes["course_code"]``; '' when none) as the added column's default,
so no row is updated and nothing hashed or signed changes. ``course_identity`` holds this
database's code (one row; empty at the city).

SQLite (always one course) keeps its tables' keys on disk: ``id INTEGER PRIMARY KEY`` is 64-bit
already and no rebuild drops the append-only and sealed-attempt triggers. PostgreSQL gets
composite primary keys, composite foreign keys between replicated tables, unique constraints
per course, a bigint journal id, and a sealed-attempt trigger that looks at the row's course.
"""
from alembic import op
import sqlalchemy as sa


revision = "0013_course_keys"
down_revision = "0012_login_sessions"
branch_labels = None
depends_on = None

# Replicated tables and their key within a course.
KEYED = {
    "candidates": ["id"], "vehicles": ["id"], "sittings": ["id"], "sitting_log": ["id"], "bookings": ["id"],
    "attempts": ["id"], "deductions": ["id"], "journal": ["id"], "seals": ["attempt_id"],
    "seal_keys": ["key_id"], "sitting_checks": ["id"], "reviews": ["id"], "audit_log": ["id"],
}

_SEALED_FUNCTION = (
    "CREATE OR REPLACE FUNCTION examroom_sealed_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE target bigint; course varchar; BEGIN "
    "IF TG_TABLE_NAME = 'attempts' THEN target := OLD.id; course := OLD.course_key; "
    "ELSIF TG_OP = 'INSERT' THEN target := NEW.attempt_id; course := NEW.course_key; "
    "ELSE target := OLD.attempt_id; course := OLD.course_key; END IF; "
    "IF EXISTS (SELECT 1 FROM seals WHERE seals.attempt_id = target AND seals.course_key = {course}) THEN "
    "RAISE EXCEPTION 'attempt is sealed: % of attempt %', TG_TABLE_NAME, target; END IF; "
    "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$")


def upgrade() -> None:
    bind = op.get_bind()
    code = op.get_context().config.attributes.get("course_code") or ""
    op.create_table("course_identity",
                    sa.Column("code", sa.String(length=32), primary_key=True),
                    sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False,
                              server_default=sa.func.current_timestamp()))
    op.execute(sa.text("INSERT INTO course_identity (code) VALUES (:code)").bindparams(code=code))
    literal = "'" + code.replace("'", "''") + "'"
    for table in KEYED:
        # An added column's default fills the old rows without an UPDATE (the triggers refusing
        # changes to sealed rows never see one).
        op.execute(f"ALTER TABLE {table} ADD COLUMN course_key VARCHAR(32) NOT NULL DEFAULT {literal}")
    if bind.dialect.name != "postgresql":
        return
    inspector = sa.inspect(bind)
    tables = inspector.get_table_names()
    foreign = {t: [fk for fk in inspector.get_foreign_keys(t) if fk["referred_table"] in KEYED] for t in tables}
    for table, fks in foreign.items():
        for fk in fks:
            op.drop_constraint(fk["name"], table, type_="foreignkey")
    for table, key in KEYED.items():
        for unique in inspector.get_unique_constraints(table):
            op.drop_constraint(unique["name"], table, type_="unique")
            op.create_unique_constraint(unique["name"], table, ["course_key"] + unique["column_names"])
        op.drop_constraint(inspector.get_pk_constraint(table)["name"], table, type_="primary")
        op.create_primary_key(f"{table}_pkey", table, ["course_key"] + key)
        op.execute(f"ALTER TABLE {table} ALTER COLUMN course_key DROP DEFAULT")  # the app names the course
    for table, fks in foreign.items():
        if table not in KEYED:  # a course-only table's reference means this course's row
            continue
        for fk in fks:
            op.create_foreign_key(fk["name"], table, fk["referred_table"],
                                  ["course_key"] + fk["constrained_columns"],
                                  ["course_key"] + fk["referred_columns"], **fk["options"])
    op.execute("ALTER TABLE journal ALTER COLUMN id TYPE bigint")
    op.execute("ALTER SEQUENCE IF EXISTS journal_id_seq AS bigint")
    op.execute(_SEALED_FUNCTION.format(course="course"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        inspector = sa.inspect(bind)
        foreign = {t: [fk for fk in inspector.get_foreign_keys(t) if fk["referred_table"] in KEYED]
                   for t in KEYED}
        for table, fks in foreign.items():
            for fk in fks:
                op.drop_constraint(fk["name"], table, type_="foreignkey")
        for table, key in KEYED.items():
            for unique in inspector.get_unique_constraints(table):
                op.drop_constraint(unique["name"], table, type_="unique")
                op.create_unique_constraint(unique["name"], table,
                                            [c for c in unique["column_names"] if c != "course_key"])
            op.drop_constraint(f"{table}_pkey", table, type_="primary")
            op.create_primary_key(f"{table}_pkey", table, key)
        for table, fks in foreign.items():
            for fk in fks:
                op.create_foreign_key(fk["name"], table, fk["referred_table"],
                                      [c for c in fk["constrained_columns"] if c != "course_key"],
                                      [c for c in fk["referred_columns"] if c != "course_key"], **fk["options"])
        for table, column in (("video_evidence", "attempt_id"), ("video_exports", "attempt_id"),
                              ("face_flags", "attempt_id")):
            op.create_foreign_key(f"{table}_{column}_fkey", table, "attempts", [column], ["id"])
        op.create_foreign_key("face_flags_booking_id_fkey", "face_flags", "bookings", ["booking_id"], ["id"])
        op.execute(_SEALED_FUNCTION.replace(" AND seals.course_key = {course}", "")
                   .replace("course := OLD.course_key; ", "").replace("course := NEW.course_key; ", "")
                   .replace("; course varchar", ""))
    for table in KEYED:
        # SQLite drops a plain column in place (3.35+): no rebuild, its triggers stay.
        op.execute(f"ALTER TABLE {table} DROP COLUMN course_key")
    op.drop_table("course_identity")
