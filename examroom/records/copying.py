"""Copying a course's rows from one database into another, every id, hash and seal as it is.

``examroom db move-to`` moves a course from SQLite to PostgreSQL with it, and a city merges
courses' records with it (docs/city.md). Rows are copied table by table, parents first and seals
last (a seal freezes its attempt: the triggers refuse a deduction or journal row added after it),
in batches through SQLAlchemy Core, so nothing is re-encoded by the ORM. Times SQLite kept as
naive UTC are given their zone (PostgreSQL would read a naive time in its own zone), JSON that was
SQL NULL stays SQL NULL. Sequences are moved past the copied ids, so the next row follows on.
"""

from __future__ import annotations

from datetime import timezone

from sqlalchemy import JSON, DateTime, Engine, Integer, bindparam, func, select, text

from examroom.records.models import Base

BATCH = 2000
SEALS_LAST = ("seals", "evidence_seals")  # an evidence seal follows its attempt's seal
NOT_COPIED = ("course_identity",)  # the target's own, made by its migration with the course's code


def tables_in_order(names: list[str] | None = None) -> list:
    """The model's tables (those named; None: all but the database's own identity), parents first, seals last."""
    tables = [t for t in Base.metadata.sorted_tables
              if (t.name in names if names is not None else t.name not in NOT_COPIED)]
    return [t for t in tables if t.name not in SEALS_LAST] + [t for t in tables if t.name in SEALS_LAST]


def filled_tables(engine: Engine) -> list[tuple[str, int]]:
    """Every table holding rows (of examroom or anything else), with its count; an empty migrated
    database holds only its migration mark and course identity."""
    from sqlalchemy import inspect

    filled = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table in ("alembic_version", "course_identity"):
                continue
            rows = connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
            if rows:
                filled.append((table, rows))
    return filled


def row_counts(engine: Engine, tables: list | None = None) -> dict[str, int]:
    with engine.connect() as connection:
        return {t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (tables if tables is not None else tables_in_order())}


def copy_rows(source: Engine, target: Engine, tables: list | None = None, course_key: str | None = None,
              progress=None) -> dict[str, int]:
    """Copy the rows of ``tables`` (default: every table) from ``source`` into ``target`` in one transaction.

    ``course_key``: only that course's rows of keyed tables (a city copying one course). Returns
    rows copied per table. The target's schema must be at the same migration as the source's.
    """
    tables = tables if tables is not None else tables_in_order()
    copied: dict[str, int] = {}
    with source.connect() as reading, target.begin() as writing:
        for table in tables:
            query = select(table)
            if course_key is not None and "course_key" in table.c:
                query = query.where(table.c.course_key == course_key)
            insert = table.insert().values({c.key: bindparam(c.key, type_=JSON(none_as_null=True))
                                            for c in table.c if isinstance(c.type, JSON)})
            times = [c.key for c in table.c if isinstance(c.type, DateTime)]
            count = 0
            for batch in reading.execution_options(yield_per=BATCH).execute(query).partitions(BATCH):
                rows = []
                for row in batch:
                    values = dict(row._mapping)
                    for key in times:
                        if values[key] is not None and values[key].tzinfo is None:
                            values[key] = values[key].replace(tzinfo=timezone.utc)
                    rows.append(values)
                writing.execute(insert, rows)
                count += len(rows)
            copied[table.name] = count
            if progress is not None:
                progress(table.name, count)
        if writing.dialect.name == "postgresql":
            _follow_sequences(writing, tables)
    return copied


def _follow_sequences(connection, tables) -> None:
    """Each counted id's sequence moved past the highest copied id (the next row follows on)."""
    for table in tables:
        column = table.c.get("id")
        if column is None or not isinstance(column.type, Integer) or not column.autoincrement:
            continue
        sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        if sequence is None:
            continue
        highest = connection.execute(select(func.max(column))).scalar()
        if highest is not None:
            connection.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": highest})
