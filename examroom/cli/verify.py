"""``examroom verify``: open the records read-only, verify, and answer with an exit status.

0: intact. 1: tampered — each finding is printed. 2: cannot check — no such
database file (never created here), a URL that names no database, a file or
server that cannot be read, or text that is no slip at all. The database is
opened read-only (SQLite ``mode=ro``), so verifying a copy leaves it as it was.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from sqlalchemy import Engine

INTACT, TAMPERED, CANNOT_CHECK = 0, 1, 2


def add_parser(sub) -> None:
    verify = sub.add_parser(
        "verify", help="verify sealed attempts offline (signature, journal chain, record, seal chain, sealed video)",
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
    verify.add_argument("--course", metavar="CODE",
                        help="the course (考场代码) whose records to verify: needed at the city, whose database "
                             "holds every course's; with --public-key the course's key alone is trusted")
    verify.add_argument("--head", action="append", default=[], metavar="DIGEST",
                        help="a seal chain head handed out earlier (closing report, API): it must still be "
                             "in its chain, nothing missing before it (repeatable)")
    verify.add_argument("--recordings-dir", type=Path, metavar="DIR",
                        help="the course's recordings folder (the site's [video] recordings_dir): each video "
                             "segment an evidence seal names is checked against its sealed size and SHA-256; "
                             "without it only the evidence seals' signatures and links are checked")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(run=run_verify)


class CannotCheck(Exception):
    """The records cannot be checked at all (as opposed to checked and found altered)."""


def open_readonly(url: str) -> Engine:
    """An engine that cannot write, on records that exist; DatabaseURLError or CannotCheck otherwise."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from examroom.records.database_url import database_url

    parsed = database_url(url, existing=True)  # one line for every command: examroom.records.database
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise CannotCheck(f"{url!r} names no database file")
        uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
    else:
        try:
            engine = create_engine(parsed, pool_pre_ping=True)
        except (ArgumentError, ImportError) as exc:
            raise CannotCheck(f"{parsed.render_as_string(hide_password=True)}: {exc}") from None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM seals")).scalar()
            connection.execute(text("SELECT count(*) FROM attempts")).scalar()
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise CannotCheck(f"cannot read the records at {parsed.render_as_string(hide_password=True)}: "
                          f"{reason}") from None
    return engine


def run_verify(args) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from examroom.records.database_url import DatabaseURLError

    try:
        return _run(args)
    except DatabaseURLError as exc:  # the same line as every other command's
        print(f"examroom verify: {exc}", file=sys.stderr)
        return CANNOT_CHECK
    except CannotCheck as exc:
        print(f"examroom verify: cannot check: {exc}", file=sys.stderr)
        return CANNOT_CHECK
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        print(f"examroom verify: cannot check: reading the records failed: {reason}", file=sys.stderr)
        return CANNOT_CHECK


def _run(args) -> int:
    from examroom.records.database import session_factory
    from examroom.records.sealing import load_public_key

    pinned = load_public_key(args.public_key.read_bytes()) if args.public_key else None
    if args.database is None:
        if args.slip is None:
            raise CannotCheck("--database is needed")
        if pinned is None:
            raise CannotCheck("--slip without --database needs --public-key (the course's key file)")
        return _slip(args, None, pinned)
    engine = open_readonly(args.database)
    try:
        sessions = session_factory(engine)
        if args.slip is not None:
            return _slip(args, sessions, pinned)
        return _records(args, sessions, pinned)
    finally:
        engine.dispose()


def _records(args, sessions, pinned) -> int:
    from examroom.records.sealing import chain_heads
    from examroom.records.verify import verify

    course = args.course
    with sessions() as session:
        if course is None and session.info.get("course_code") is None:
            raise CannotCheck("this database holds several courses' records (the city): give --course CODE")
        if course is None:
            course = session.info["course_code"]
        heads = chain_heads(session, course_key=course)
    recordings = getattr(args, "recordings_dir", None)
    if recordings is not None and not recordings.is_dir():
        raise CannotCheck(f"{recordings}: no such recordings folder")
    report = verify(sessions, attempts=args.attempt, day=args.day, public_key=pinned, heads=args.head,
                    course=course, recordings_dir=recordings)
    if args.json:
        print(json.dumps({"ok": report.ok, "course": course, "checked": report.checked,
                          "unfinished": report.unfinished,
                          "problems": [p.__dict__ for p in report.problems], "anchored": report.anchored,
                          "video_gone_by_retention": [{"attempt": g.attempt, "camera": g.camera, "file": g.file,
                                                       "deleted_utc": g.deleted_utc.isoformat()}
                                                      for g in report.video_gone],
                          "heads": heads}, ensure_ascii=False, indent=2))
    else:
        for problem in report.problems:
            print(problem)
        if report.unfinished:
            print(f"still running, not verified: {', '.join(map(str, report.unfinished))}")
        for gone in report.video_gone:  # not a problem: the course's evidence retention deleted it
            print(gone)
        for digest, found in report.anchored.items():
            print(f"anchored head {digest[:16]}… is seal {found['seq']} of chain {found['chain']!r}: "
                  "nothing before it is missing")
        for chain, head in heads.items():
            print(f"chain {chain or '(version 1)'!s}: {head['seq']} seal(s), head {head['digest']}")
        verdict = "OK" if report.ok else f"{len(report.problems)} problem(s)"
        print(f"verified {len(report.checked)} attempt(s){f' of course {course}' if course else ''}: {verdict}")
    return INTACT if report.ok else TAMPERED


def _slip(args, sessions, pinned) -> int:
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from examroom.records.models import Attempt, SealKey
    from examroom.records.sealing import key_id, load_public_key
    from examroom.records.slip_token import SlipTokenError, differences, read_slip, slip_claims
    from examroom.records.verify import verify

    if pinned is not None:
        keys = {key_id(pinned): pinned}
    else:
        with sessions() as session:
            keys = {k.key_id: load_public_key(k.public_pem) for k in session.scalars(select(SealKey))}
    try:
        check = read_slip(args.slip, keys)
    except SlipTokenError as exc:
        raise CannotCheck(str(exc)) from None
    claims = check.claims
    findings = []
    if not check.signed:
        findings.append(f"signature: the slip is not signed by {'the pinned key' if pinned else 'a key of these records'}"
                        f" (key {claims.get('k')!r}): forged or altered")
    if sessions is not None:
        with sessions() as session:
            course = claims.get("o") or session.info.get("course_code")  # the slip's course, at the city too
            attempt = session.scalar(select(Attempt).where(Attempt.course_key == course, Attempt.id == claims["a"])
                                     .options(joinedload(Attempt.candidate), joinedload(Attempt.deductions)))
            stored = None if attempt is None else slip_claims(attempt, claims.get("k", ""))
        if stored is None:
            findings.append(f"attempt {claims['a']}: no such attempt in the records")
        else:
            findings += [f"slip field {name}: slip says {claims.get(name)!r}, the records {stored.get(name)!r}"
                         for name in differences(claims, stored)]
            findings += [str(p) for p in verify(sessions, attempts=[claims["a"]], public_key=pinned,
                                                course=course).problems]
    if args.json:
        print(json.dumps({"ok": not findings, "slip": claims, "signed": check.signed, "problems": findings},
                         ensure_ascii=False, indent=2))
    else:
        print(f"slip of attempt {claims['a']}: class {claims.get('c')}, {claims.get('d')}, {claims.get('n')} "
              f"{claims.get('i')}, score {claims.get('s')}, {claims.get('r')}")
        for item, lost, disqualified in claims.get("it", []):
            print(f"  {item}: {'不合格' if disqualified else (f'-{lost}' if lost else '0')}")
        for finding in findings:
            print(finding)
        print("slip OK: signed by the course" + (" and matching the sealed record" if sessions else "")
              if not findings else f"slip NOT OK: {len(findings)} problem(s)")
    return INTACT if not findings else TAMPERED
