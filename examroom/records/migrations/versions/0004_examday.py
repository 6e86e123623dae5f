"""exam day: sittings, bookings, seals, journal hash chain, scheduler job store

Revision ID: 0004_examday
Revises: 0003_reviews
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_examday'
down_revision = '0003_reviews'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sittings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('course_code', sa.String(length=32), nullable=False),
    sa.Column('checkin_opens_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('starts_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('self_check', sa.JSON(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('sitting_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sitting_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['sitting_id'], ['sittings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sitting_id', 'phase', name='uq_sitting_log_phase')
    )
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sitting_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('serial_number', sa.String(length=32), nullable=False),
    sa.Column('vehicle_class', sa.String(length=4), nullable=False),
    sa.Column('school', sa.String(length=128), nullable=False),
    sa.Column('exam_reason', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('queue_no', sa.Integer(), nullable=True),
    sa.Column('vehicle_id', sa.String(length=32), nullable=True),
    sa.Column('called_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_utc', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by', sa.String(length=64), nullable=False),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('photo_sha256', sa.String(length=64), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], ),
    sa.ForeignKeyConstraint(['sitting_id'], ['sittings.id'], ),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sitting_id', 'candidate_id', name='uq_booking_sitting_candidate')
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_sitting_id'), ['sitting_id'], unique=False)

    op.create_table('seal_keys',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('public_pem', sa.Text(), nullable=False),
    sa.Column('created_utc', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id')
    )
    op.create_table('seals',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('sealed_utc', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ),
    sa.PrimaryKeyConstraint('attempt_id'),
    sa.UniqueConstraint('seq')
    )
    # APScheduler 3's SQLAlchemyJobStore table, created here so Alembic owns the whole schema
    # (the job store's own create_all then finds it and does nothing).
    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_apscheduler_jobs_next_run_time', ['next_run_time'], unique=False)

    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booking_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attempt_no', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_attempts_booking_id'), ['booking_id'], unique=False)
        batch_op.create_foreign_key('fk_attempts_booking_id', 'bookings', ['booking_id'], ['id'])

    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _append_only_triggers()


# The journal and the seals are append-only: the database itself refuses an UPDATE or DELETE
# from the application (an accident, a bug). Someone who drops the triggers first is caught by
# the hash chain and the signatures instead (examroom verify). Created after the batch
# alteration above, which on SQLite rebuilds the journal table and would drop them.
APPEND_ONLY = ('journal', 'seals')


def _append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for table in APPEND_ONLY:
            for action in ('UPDATE', 'DELETE'):
                op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    elif dialect == 'postgresql':
        op.execute("CREATE FUNCTION examroom_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION examroom_append_only()")


def _drop_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for table in APPEND_ONLY:
            for action in ('update', 'delete'):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    elif dialect == 'postgresql':
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS examroom_append_only()")


def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_attempts_booking_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_attempts_booking_id'))
        batch_op.drop_column('attempt_no')
        batch_op.drop_column('booking_id')
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_apscheduler_jobs_next_run_time')
    op.drop_table('apscheduler_jobs')
    op.drop_table('seals')
    op.drop_table('seal_keys')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_sitting_id'))
    op.drop_table('bookings')
    op.drop_table('sitting_log')
    op.drop_table('sittings')
