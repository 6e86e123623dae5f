"""``examroom db``: the course's database itself. ``db move-to URL`` moves a course to PostgreSQL.

The move copies every row of the course's database (SQLite, or another PostgreSQL) into an
empty PostgreSQL database made by the same migrations, keeping every id, journal hash and seal
(examroom.records.copying), then verifies the target as ``examroom verify`` does and compares
each seal chain's head on both sides. A target that holds any row is refused and nothing is
changed; the source is only read (after bringing its schema to the newest migration, as
``examroom serve`` would). Afterwards point the site file's ``database_url`` at the target.
"""

from __future__ import annotations

import sys
from pathlib import Path

MOVED, NOT_VERIFIED = 0, 1


def add_parser(sub) -> None:
    db = sub.add_parser("db", help="the course's database: move it to PostgreSQL")
    commands = db.add_subparsers(dest="db_command", required=True)
    move = commands.add_parser(
        "move-to", help="copy the course's database into an empty PostgreSQL database, every id and seal kept",
        description="Exit status: 0 moved and verified, 1 copied but a seal does not verify on the target, "
                    "2 refused (target not empty, not PostgreSQL, unreadable): nothing changed.")
    move.add_argument("target", metavar="postgresql://…", help="the empty PostgreSQL database to move to")
    source = move.add_mutually_exclusive_group(required=True)
    source.add_argument("--site", type=Path, help="the course's site file (its database_url and course_code)")
    source.add_argument("--database", help="the course's database URL (sqlite:///FILE)")
    move.add_argument("--course-code", default="",
                      help="考场代码 of a database that has none yet (default: the site file's, or the database's)")
    move.set_defaults(run=run_move)


def run_move(args) -> int:
    from examroom.messages import SupervisorError
    from examroom.records.database_url import database_url

    source_url, code = args.database, args.course_code
    if args.site is not None:
        from examroom.site.settings import load_settings

        settings = load_settings(args.site)
        source_url, code = settings.database_url, code or settings.course_code
    target = database_url(args.target)
    if target.get_backend_name() != "postgresql":
        raise ValueError(f"move-to moves a course to PostgreSQL; {target.render_as_string(hide_password=True)} "
                         "is not a PostgreSQL URL (postgresql://USER:PASSWORD@HOST/NAME)")
    try:
        return _move(source_url, args.target, code)
    except SupervisorError as exc:  # refused: one Chinese line
        print(f"examroom db move-to: {exc}", file=sys.stderr)
        return 2


def _move(source_url: str, target_url: str, code: str) -> int:
    from examroom.records.copying import copy_rows, tables_in_order
    from examroom.records.database import claim_course, database_course, make_engine, session_factory, upgrade
    from examroom.records.sealing import chain_heads
    from examroom.records.verify import verify

    source = make_engine(source_url, existing=True)
    target = make_engine(target_url)
    try:
        _refuse_unless_empty(target)
        upgrade(source, code)
        claim_course(source, code)
        code = database_course(source) or ""
        upgrade(target, code)
        claim_course(target, code)
        tables = tables_in_order()
        copied = copy_rows(source, target, tables)
        shown = target.url.render_as_string(hide_password=True)
        print(f"copied {sum(copied.values())} rows of {sum(1 for n in copied.values() if n)} tables "
              f"(course {code or '(no code)'}) to {shown}")
        source_sessions, target_sessions = session_factory(source), session_factory(target)
        report = verify(target_sessions)
        with source_sessions() as before, target_sessions() as after:
            heads_before, heads_after = chain_heads(before), chain_heads(after)
        for problem in report.problems:
            print(problem)
        for chain, head in heads_after.items():
            print(f"chain {chain or '(version 1)'}: {head['seq']} seal(s), head {head['digest']}")
        if heads_before != heads_after:
            print("the seal chain heads differ from the source's")
        ok = report.ok and heads_before == heads_after
        print(f"verified {len(report.checked)} attempt(s) on the target: "
              f"{'OK' if ok else f'{len(report.problems)} problem(s)'}")
        return MOVED if ok else NOT_VERIFIED
    finally:
        source.dispose()
        target.dispose()


def _refuse_unless_empty(target) -> None:
    """A target holding any row (of examroom or anything else) is refused before anything is written."""
    from examroom.messages import N_, SupervisorError
    from examroom.records.copying import filled_tables

    filled = filled_tables(target)
    if filled:
        raise SupervisorError(N_("目标数据库不是空的：%(tables)s已有数据。examroom db move-to 只搬到空数据库，"
                                 "两边都没有改动；请新建一个空的 PostgreSQL 数据库再搬。"),
                              tables="、".join(f"{table}（{rows} 行）" for table, rows in filled))
