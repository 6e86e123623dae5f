"""seal chains per course, sealed attempts frozen, course snapshots, signed slips

Revision ID: 0010_seal_chain
Revises: 0009_face_review

Seals form one chain per course (``seals.chain``; numbered within it), so the
unique seal number becomes unique per chain. Seals made before this revision
keep ``chain = ''``: the single chain they were made in (payload version 1).
Attempts store the course they were driven on (its parsed file and SHA-256).
A sealed attempt can never change again: triggers refuse updating or deleting
it, touching its deductions and adding to its journal.
"""
from alembic import op
import sqlalchemy as sa


revision = "0010_seal_chain"
down_revision = "0009_face_review"
branch_labels = None
depends_on = None

_SEALED = "attempt is sealed"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("course_snapshot", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("course_sha256", sa.String(length=64), nullable=True))
    if dialect == "sqlite":
        # The seal number's UNIQUE was created without a name: a naming convention lets the
        # rebuilt table leave it out. The rebuild drops the table's triggers: made again below.
        # A database downgraded past this revision has no such UNIQUE any more (the downgrade
        # cannot restore it): nothing to drop then.
        unique_seq = any(u["column_names"] == ["seq"]
                         for u in sa.inspect(op.get_bind()).get_unique_constraints("seals"))
        with op.batch_alter_table("seals", schema=None, recreate="always",
                                  naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}) as batch_op:
            if unique_seq:
                batch_op.drop_constraint("uq_seals_seq", type_="unique")
            batch_op.add_column(sa.Column("chain", sa.String(length=64), nullable=False, server_default=""))
            batch_op.add_column(sa.Column("slip", sa.Text(), nullable=True))
            batch_op.create_unique_constraint("uq_seals_chain_seq", ["chain", "seq"])
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER seals_no_{action.lower()} BEFORE {action} ON seals "
                       f"BEGIN SELECT RAISE(ABORT, 'seals is append-only'); END")
        sealed = "EXISTS (SELECT 1 FROM seals WHERE seals.attempt_id = {row}.{column})"
        for name, event, table, row, column in (
                ("attempts_sealed_no_update", "UPDATE", "attempts", "OLD", "id"),
                ("attempts_sealed_no_delete", "DELETE", "attempts", "OLD", "id"),
                ("deductions_sealed_no_insert", "INSERT", "deductions", "NEW", "attempt_id"),
                ("deductions_sealed_no_update", "UPDATE", "deductions", "OLD", "attempt_id"),
                ("deductions_sealed_no_delete", "DELETE", "deductions", "OLD", "attempt_id"),
                ("journal_sealed_no_insert", "INSERT", "journal", "NEW", "attempt_id")):
            op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                       f"WHEN {sealed.format(row=row, column=column)} "
                       f"BEGIN SELECT RAISE(ABORT, '{_SEALED}'); END")
    else:
        op.execute("ALTER TABLE seals DROP CONSTRAINT IF EXISTS seals_seq_key")
        op.add_column("seals", sa.Column("chain", sa.String(length=64), nullable=False, server_default=""))
        op.add_column("seals", sa.Column("slip", sa.Text(), nullable=True))
        op.create_unique_constraint("uq_seals_chain_seq", "seals", ["chain", "seq"])
        if dialect == "postgresql":
            op.execute(
                "CREATE FUNCTION examroom_sealed_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "DECLARE target integer; BEGIN "
                "IF TG_TABLE_NAME = 'attempts' THEN target := OLD.id; "
                "ELSIF TG_OP = 'INSERT' THEN target := NEW.attempt_id; "
                "ELSE target := OLD.attempt_id; END IF; "
                "IF EXISTS (SELECT 1 FROM seals WHERE seals.attempt_id = target) THEN "
                f"RAISE EXCEPTION '{_SEALED}: % of attempt %', TG_TABLE_NAME, target; END IF; "
                "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$")
            for table, events in (("attempts", "UPDATE OR DELETE"), ("deductions", "INSERT OR UPDATE OR DELETE"),
                                  ("journal", "INSERT")):
                op.execute(f"CREATE TRIGGER {table}_sealed BEFORE {events} ON {table} "
                           "FOR EACH ROW EXECUTE FUNCTION examroom_sealed_refuse()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("attempts_sealed_no_update", "attempts_sealed_no_delete", "deductions_sealed_no_insert",
                     "deductions_sealed_no_update", "deductions_sealed_no_delete", "journal_sealed_no_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        for table in ("attempts", "deductions", "journal"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_sealed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS examroom_sealed_refuse()")
    # The seal number is not made unique again: several chains may hold the same number by now.
    with op.batch_alter_table("seals", schema=None) as batch_op:
        batch_op.drop_constraint("uq_seals_chain_seq", type_="unique")
        batch_op.drop_column("slip")
        batch_op.drop_column("chain")
    if dialect == "sqlite":  # the rebuilt table lost its append-only triggers (0005)
        for action in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS seals_no_{action.lower()}")
            op.execute(f"CREATE TRIGGER seals_no_{action.lower()} BEFORE {action} ON seals "
                       f"BEGIN SELECT RAISE(ABORT, 'seals is append-only'); END")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_column("course_sha256")
        batch_op.drop_column("course_snapshot")
