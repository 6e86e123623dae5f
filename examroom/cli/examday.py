"""Exam-day subcommands of ``examroom``: sittings, roster import, result slips.

They work on the course database by URL and write what they say. ``verify``, ``seal-key`` and the
upload ``export`` have modules of their own (``verify.py``, ``seal_key.py``, ``export.py``).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from examroom.cli.options import DEFAULT_COURSE, open_sessions


def add_parser(sub) -> None:
    sitting = sub.add_parser("sitting", help="add or list sittings (考试场次)")
    sitting.add_argument("action", choices=["add", "list"])
    sitting.add_argument("code", nargs="?", help="the sitting code, as in the booking list")
    sitting.add_argument("--opens", type=_utc, help="check-in opens (ISO time, UTC unless a zone is given)")
    sitting.add_argument("--starts", type=_utc, help="first attempt (ISO time)")
    sitting.add_argument("--ends", type=_utc, help="end (ISO time)")
    sitting.add_argument("--course-code", default="", help="考场代码")
    sitting.add_argument("--database", required=True, help="database URL")
    sitting.set_defaults(run=run_sitting)

    roster = sub.add_parser("roster", help="check a booking list (CSV/.xlsx); import its good rows with --commit")
    roster.add_argument("file", type=Path)
    roster.add_argument("--database", required=True, help="database URL")
    roster.add_argument("--course", type=Path, default=DEFAULT_COURSE, help="course file: the classes examined")
    roster.add_argument("--commit", action="store_true", help="import the good rows (default: only report)")
    roster.add_argument("--json", action="store_true")
    roster.add_argument("--photos", type=Path, default=None,
                        help="folder of reference photos named by ID number (<身份证明号码>.jpg): attached with --commit")
    roster.set_defaults(run=run_roster)

    slip = sub.add_parser("slip", help="the result slip (成绩单) of an attempt as PDF")
    slip.add_argument("attempt", type=int)
    slip.add_argument("--database", required=True, help="database URL")
    slip.add_argument("--out", type=Path, required=True, help="PDF file to write")
    slip.add_argument("--verify-url", default="http://127.0.0.1:8080/examday/verify/",
                      help="base of the verification link in the QR code")
    slip.set_defaults(run=run_slip)


def _utc(text: str) -> datetime:
    from examroom import courseclock

    return courseclock.as_utc(datetime.fromisoformat(text))


def run_sitting(args) -> int:
    from sqlalchemy import select

    from examroom.records.models import Sitting
    from examroom.examday.sittings import SittingPlan, create_sitting

    sessions = open_sessions(args.database, migrate=True)
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


def run_roster(args) -> int:
    from examroom.examday.roster import RosterImport, examined_classes
    from scoring.course import load_course

    sessions = open_sessions(args.database, migrate=True)
    importer = RosterImport(sessions, examined_classes(load_course(args.course)))
    report = importer.run(args.file, commit=args.commit)
    photos = None
    if args.photos is not None:
        from examroom.examday.roster import import_reference_photos

        photos = import_reference_photos(sessions, args.photos, "roster import", commit=args.commit)
        if args.commit and photos.attached:  # candidates' faces: who attached them, from where, is audited
            import getpass
            from datetime import datetime, timezone

            from examroom.accounts.audit import AuditLog

            AuditLog(sessions).record(datetime.now(timezone.utc), getpass.getuser(), "cli", "reference_photos_imported",
                                      str(args.photos), f"{len(photos.attached)} photo(s): {', '.join(photos.attached)}")
    if args.json:
        print(json.dumps(report.as_dict() | ({"photos": photos.as_dict()} if photos else {}), ensure_ascii=False,
                         indent=2))
    else:
        for bad in report.bad:
            print(bad)
        done = f"导入 {report.imported} 条，已存在未变 {report.unchanged} 条" if args.commit else "未导入（加 --commit 导入合格行）"
        print(f"{report.source}: 合格 {len(report.good)} 行，不合格 {len(report.bad)} 行；{done}")
        if photos is not None:
            for line in photos.bad + [f"{name}: 没有待签到的预约" for name in photos.unmatched]:
                print(line)
            for line in photos.no_face:
                print(f"{line}（照片中没有可用的人脸，签到时由考试员决定）")
            verb = "附上" if args.commit else "可附上（加 --commit 附上）"
            print(f"比对照片：{verb} {len(photos.attached)} 张，未变 {len(photos.unchanged)} 张，"
                  f"无预约 {len(photos.unmatched)} 张，不合格 {len(photos.bad)} 张")
    return 0 if not report.bad and not (photos and photos.bad) else 1


def run_slip(args) -> int:
    from examroom.examday.slip import render_slip

    args.out.write_bytes(render_slip(open_sessions(args.database, migrate=False), args.attempt, args.verify_url))
    print(f"slip of attempt {args.attempt}: {args.out}")
    return 0
