"""Exam-day subcommands of ``examroom``: sittings, roster import, verify, result slips, export.

They work on the course database by URL, so an auditor can run ``verify`` on a
copy far from the course. ``verify`` only reads; the others write what they say.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path


def add_parsers(sub, default_course: Path) -> None:
    verify = sub.add_parser(
        "verify", help="verify sealed attempts offline (signature, journal chain, record, seal chain)",
        description="Exit status: 0 intact, 1 tampered (each finding named), 2 cannot check "
                    "(no such database file, wrong URL, unreadable; nothing is created).")
    scope = verify.add_mutually_exclusive_group(required=True)
    scope.add_argument("--attempt", type=int, action="append", help="attempt id (repeatable)")
    scope.add_argument("--day", type=date.fromisoformat, help="a course day, YYYY-MM-DD (China time)")
    scope.add_argument("--all", action="store_true", help="every attempt")
    scope.add_argument("--slip", metavar="TEXT",
                       help="a slip's scanned QR text (link or token): check its signature (with --public-key, "
                            "offline) and, with --database, that it matches the stored record")
    verify.add_argument("--database", help="database URL (required except for --slip with --public-key)")
    verify.add_argument("--public-key", type=Path, help="pin the course's public key (PEM file from "
                                                        "`examroom seal-key`) instead of the stored one")
    verify.add_argument("--head", action="append", default=[], metavar="DIGEST",
                        help="a seal chain head handed out earlier (closing report, API): it must still be "
                             "in its chain, nothing missing before it (repeatable)")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(run=_verify)

    seal_key = sub.add_parser("seal-key", help="write the course seal key's public half, to hand out for verify")
    seal_key.add_argument("--data-dir", type=Path, required=True, help="the course's data folder (holds the key)")
    seal_key.add_argument("--out", type=Path, help="PEM file to write (default: print it)")
    seal_key.set_defaults(run=_seal_key)

    sitting = sub.add_parser("sitting", help="add or list sittings (考试场次)")
    sitting.add_argument("action", choices=["add", "list"])
    sitting.add_argument("code", nargs="?", help="the sitting code, as in the booking list")
    sitting.add_argument("--opens", type=_utc, help="check-in opens (ISO time, UTC unless a zone is given)")
    sitting.add_argument("--starts", type=_utc, help="first attempt (ISO time)")
    sitting.add_argument("--ends", type=_utc, help="end (ISO time)")
    sitting.add_argument("--course-code", default="", help="考场代码")
    sitting.add_argument("--database", required=True, help="database URL")
    sitting.set_defaults(run=_sitting)

    roster = sub.add_parser("roster", help="check a booking list (CSV/.xlsx); import its good rows with --commit")
    roster.add_argument("file", type=Path)
    roster.add_argument("--database", required=True, help="database URL")
    roster.add_argument("--course", type=Path, default=default_course, help="course file: the classes examined")
    roster.add_argument("--commit", action="store_true", help="import the good rows (default: only report)")
    roster.add_argument("--json", action="store_true")
    roster.set_defaults(run=_roster)

    slip = sub.add_parser("slip", help="the result slip (成绩单) of an attempt as PDF")
    slip.add_argument("attempt", type=int)
    slip.add_argument("--database", required=True, help="database URL")
    slip.add_argument("--out", type=Path, required=True, help="PDF file to write")
    slip.add_argument("--verify-url", default="http://127.0.0.1:8080/examday/verify/",
                      help="base of the verification link in the QR code")
    slip.set_defaults(run=_slip)

    export = sub.add_parser("export", help="export a sitting's results for upload (JSON + CSV + checksums)")
    export.add_argument("sitting", help="sitting code")
    export.add_argument("--database", required=True, help="database URL")
    export.add_argument("--out", type=Path, required=True, help="folder to write into")
    export.add_argument("--format", default="national", help="exporter (default: national 科目二 record)")
    export.set_defaults(run=_export)


def _utc(text: str) -> datetime:
    from examroom import courseclock

    return courseclock.as_utc(datetime.fromisoformat(text))


def _sessions(url: str, migrate: bool):
    from examroom.records.database import make_engine, session_factory, upgrade

    engine = make_engine(url, existing=not migrate)  # a command that only reads never makes a new file
    if migrate:
        upgrade(engine)
    return session_factory(engine)


def _verify(args) -> int:
    from examroom.cli.verify import run_verify

    return run_verify(args)


def _seal_key(args) -> int:
    from examroom.records.sealing import key_id, load_key, public_pem

    public = load_key(args.data_dir).public_key()
    if args.out is None:
        print(public_pem(public), end="")
    else:
        args.out.write_text(public_pem(public), encoding="utf-8")
        print(f"public key {key_id(public)}: {args.out}")
    return 0


def _sitting(args) -> int:
    from sqlalchemy import select

    from examroom.records.models import Sitting
    from examroom.examday.sittings import SittingPlan, create_sitting

    sessions = _sessions(args.database, migrate=True)
    if args.action == "add":
        if not (args.code and args.opens and args.starts and args.ends):
            raise ValueError("sitting add needs CODE, --opens, --starts and --ends")
        sitting_id = create_sitting(sessions, SittingPlan(args.code, args.opens, args.starts, args.ends,
                                                          args.course_code))
        print(f"sitting {args.code}: id {sitting_id} (the controller schedules it when it starts)")
        return 0
    with sessions() as session:
        for s in session.scalars(select(Sitting).order_by(Sitting.starts_utc)):
            print(f"{s.id:4d} {s.code:<16} {s.status:<8} {s.starts_utc} – {s.ends_utc}")
            # The closing report's seal chain heads: keep them, `examroom verify --head` checks them later.
            for chain, head in ((s.summary or {}).get("seal_heads") or {}).items():
                print(f"     closed with chain {chain or '(version 1)'} at seal {head['seq']}: head {head['digest']}")
    return 0


def _roster(args) -> int:
    from examroom.examday.roster import RosterImport, examined_classes
    from scoring.course import load_course

    importer = RosterImport(_sessions(args.database, migrate=True), examined_classes(load_course(args.course)))
    report = importer.run(args.file, commit=args.commit)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for bad in report.bad:
            print(bad)
        done = f"导入 {report.imported} 条，已存在未变 {report.unchanged} 条" if args.commit else "未导入（加 --commit 导入合格行）"
        print(f"{report.source}: 合格 {len(report.good)} 行，不合格 {len(report.bad)} 行；{done}")
    return 0 if not report.bad else 1


def _slip(args) -> int:
    from examroom.examday.slip import render_slip

    args.out.write_bytes(render_slip(_sessions(args.database, migrate=False), args.attempt, args.verify_url))
    print(f"slip of attempt {args.attempt}: {args.out}")
    return 0


def _export(args) -> int:
    from examroom.examday.upload_export import export_sitting

    files = export_sitting(_sessions(args.database, migrate=False), args.sitting, args.out, args.format)
    for path in files:
        print(path)
    return 0

