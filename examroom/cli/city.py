"""``examroom city``: courses replicating their records into a city database (docs/city-replication.md).

At a course: ``city publish`` (migrate, name the course, publish its records) and ``city slots``
(the WAL the city's slot holds back on the course's disk; exit status 1 with a Chinese warning
when it passes ``--warn-wal``, for a cron job or the course's monitoring). At the city:
``city prepare`` (the city's database), ``city subscribe`` (one course), ``city status`` (each
course's link: connected, last contact, newest record, lag, WAL; exit status 1 when a course is
out of contact or warns), ``city resync`` (a course's copy made again, after its slot was lost),
``city key`` (a course's public seal key registered at the city, its fingerprint in the city's
audit log) and ``city watch`` (the city's verification of every course's newly replicated seals,
every ``[verification] every_seconds`` until stopped, or ``--once``: docs/city-warnings.md).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

OK, ATTENTION = 0, 1
_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20,
          "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30, "T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40}


def size(text: str) -> int:
    """A size such as 1GiB, 512MB or 1048576 (bytes); binary units throughout."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).upper() not in _UNITS:
        raise ValueError(f"size {text!r}: expected a number with an optional unit (B, KiB, MiB, GiB, TiB)")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def add_parser(sub) -> None:
    city = sub.add_parser("city", help="replication of the courses' records into a city database")
    commands = city.add_subparsers(dest="city_command", required=True)

    publish = commands.add_parser("publish",
                                  help="at a course: migrate its PostgreSQL database and publish its records")
    publish.add_argument("--database", required=True, help="the course's PostgreSQL URL")
    publish.add_argument("--course-code", required=True, help="考场代码 of the course")
    publish.set_defaults(run=run_publish)

    slots = commands.add_parser("slots", help="at a course: the WAL each replication slot holds back",
                                description="Exit status: 0 all well, 1 a slot warns (its text is printed in "
                                            "Chinese), 2 the database could not be read.")
    slots.add_argument("--database", required=True, help="the course's PostgreSQL URL")
    slots.add_argument("--warn-wal", type=size, default="1GiB", help="warn when a slot holds this much WAL")
    slots.add_argument("--json", action="store_true")
    slots.set_defaults(run=run_slots)

    prepare = commands.add_parser("prepare", help="at the city: make an empty PostgreSQL database the city's")
    prepare.add_argument("--database", required=True, help="the city's PostgreSQL URL")
    prepare.set_defaults(run=run_prepare)

    subscribe = commands.add_parser("subscribe", help="at the city: subscribe to a course's records")
    subscribe.add_argument("--database", required=True, help="the city's PostgreSQL URL")
    subscribe.add_argument("--course-code", required=True)
    subscribe.add_argument("--conninfo", required=True,
                           help="how the city reaches the course (libpq form: 'host=… port=… user=… dbname=…')")
    subscribe.set_defaults(run=run_subscribe)

    status = commands.add_parser("status", help="at the city: each course's link, lag and last contact",
                                 description="Exit status: 0 every course connected and no warning, 1 a course "
                                             "is out of contact or warns, 2 the city's database could not be read.")
    status.add_argument("--database", required=True, help="the city's PostgreSQL URL")
    status.add_argument("--course", action="append", default=[], metavar="CODE[=URL]",
                        help="a course to show; with =URL the city also reads the course's own figures "
                             "(lag, WAL held back) over the link. Default: every subscribed course")
    status.add_argument("--warn-wal", type=size, default="1GiB")
    status.add_argument("--state", type=Path, help="a file keeping each course's last contact between runs")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=run_status)

    resync = commands.add_parser("resync", help="at the city: drop a course's copy and copy it again")
    resync.add_argument("--database", required=True, help="the city's PostgreSQL URL")
    resync.add_argument("--course-code", required=True)
    resync.add_argument("--conninfo", required=True, help="how the city reaches the course (libpq form)")
    resync.set_defaults(run=run_resync)

    key = commands.add_parser("key", help="at the city: register a course's public seal key (what the city "
                                          "verifies the course's records against)")
    key.add_argument("--database", required=True, help="the city's PostgreSQL URL")
    key.add_argument("--city-file", required=True, type=Path, help="the city settings file (its city_code)")
    key.add_argument("--course", required=True, help="考场代码 of the course")
    key.add_argument("--public-key", required=True, type=Path,
                     help="the course's public key file (course-seal-key.pub.pem), as the course handed it over")
    key.add_argument("--by", required=True, help="who registers it (kept in the city's audit log)")
    key.set_defaults(run=run_key)

    watch = commands.add_parser("watch", help="at the city: verify every course's newly replicated seals, "
                                              "continuously, and store the results",
                                description="Runs a verification pass every [verification] every_seconds of "
                                            "the city file until stopped (SIGTERM, Ctrl-C). With --once: one "
                                            "pass; exit status 1 when it found a problem. docs/city-warnings.md.")
    watch.add_argument("--database", required=True, help="the city's PostgreSQL URL")
    watch.add_argument("--city-file", required=True, type=Path, help="the city settings file")
    watch.add_argument("--once", action="store_true", help="one pass, then exit")
    watch.add_argument("--limit", type=int, default=None,
                       help="at most this many seals a chain in a pass (catching up on a long backlog)")
    watch.set_defaults(run=run_watch)


def _engine(url: str):
    from examroom.records.database import make_engine

    return make_engine(url)


def run_publish(args) -> int:
    from examroom.city.replication import prepare_course

    tables = prepare_course(_engine(args.database), args.course_code)
    print(f"course {args.course_code}: publication examroom_city of {len(tables)} tables: {', '.join(tables)}")
    return OK


def run_prepare(args) -> int:
    from examroom.city.replication import prepare_city

    prepare_city(_engine(args.database))
    print("the city's database is ready: subscribe each course with examroom city subscribe")
    return OK


def run_subscribe(args) -> int:
    from examroom.city.replication import subscribe

    name = subscribe(_engine(args.database), args.course_code, args.conninfo)
    print(f"subscription {name}: the first copy of course {args.course_code}'s records runs now")
    return OK


def run_resync(args) -> int:
    from examroom.city.replication import resync

    resync(_engine(args.database), args.course_code, args.conninfo)
    print(f"course {args.course_code}: its rows at the city were dropped and are being copied again")
    return OK


def run_slots(args) -> int:
    from examroom.city.watch import human_bytes, slot_states

    states = slot_states(_engine(args.database), args.warn_wal)
    if args.json:
        print(json.dumps([{"slot": s.slot, "active": s.active, "retained_bytes": s.retained_bytes,
                           "behind_bytes": s.behind_bytes, "wal_status": s.wal_status,
                           "warning": s.warning_text} for s in states], ensure_ascii=False, indent=2))
    else:
        for s in states:
            print(f"{s.slot}: {'connected' if s.active else 'not connected'}, "
                  f"WAL held {human_bytes(s.retained_bytes)}, "
                  f"behind {human_bytes(s.behind_bytes)}, {s.wal_status or '-'}")
            if s.warning_text:
                print(f"  {s.warning_text}")
    return ATTENTION if any(s.warning for s in states) else OK


def run_status(args) -> int:
    from examroom.city.replication import subscribed_courses
    from examroom.city.watch import LinkWatch, course_engine, human_bytes

    city = _engine(args.database)
    courses: dict[str, object] = {}
    for given in args.course or subscribed_courses(city):
        code, _, url = given.partition("=")
        courses[code] = course_engine(url) if url else None
    links = LinkWatch(city, courses, warn_bytes=args.warn_wal, state_file=args.state).sample()
    now = datetime.now(timezone.utc)
    if args.json:
        print(json.dumps([{"course": link.course, "enabled": link.enabled, "connected": link.connected,
                           "last_contact": _iso(link.last_contact), "silent_s": link.silent_for(now),
                           "newest_record": _iso(link.newest_record), "lag_s": link.lag_s,
                           "behind_bytes": link.behind_bytes,
                           "wal_held_bytes": None if link.slot is None else link.slot.retained_bytes,
                           "warning": None if link.slot is None else link.slot.warning_text}
                          for link in links], ensure_ascii=False, indent=2))
    else:
        for link in links:
            silent = link.silent_for(now)
            contact = "never" if silent is None else f"{_iso(link.last_contact)} ({silent:.0f} s ago)"
            lag = "-" if link.lag_s is None else f"{link.lag_s * 1000:.0f} ms"
            held = "-" if link.slot is None else human_bytes(link.slot.retained_bytes)
            print(f"{link.course}: {'connected' if link.connected else 'NOT CONNECTED'}"
                  f"{'' if link.enabled else ' (subscription disabled)'}; last contact {contact}; "
                  f"newest record {_iso(link.newest_record) or '-'}; lag {lag}; WAL held at the course {held}")
            if link.slot is not None and link.slot.warning_text:
                print(f"  {link.slot.warning_text}")
    trouble = any(not link.connected or (link.slot is not None and link.slot.warning) for link in links)
    return ATTENTION if trouble else OK


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def run_key(args) -> int:
    from examroom.city.verification import register_key
    from examroom.city.watch_settings import load

    settings = load(args.city_file)
    row = register_key(_engine(args.database), settings.city_code, args.course,
                       args.public_key.read_text(encoding="utf-8"), args.by, datetime.now(timezone.utc))
    print(f"course {args.course}: key {row.key_id} registered (sha256 {row.fingerprint}); "
          "the city verifies the course's seals against it")
    return OK


def run_watch(args) -> int:
    import signal

    from examroom.city.verification import VerificationLoop, verify_pass
    from examroom.city.watch_settings import load

    settings = load(args.city_file)
    engine = _engine(args.database)

    def now() -> datetime:
        return datetime.now(timezone.utc)

    def show(summary) -> None:
        print(f"{_iso(summary.started)} {summary.line()}", flush=True)
        for chain in summary.chains:
            for problem in chain.problems:
                who = "records" if problem["attempt"] is None else f"attempt {problem['attempt']}"
                print(f"  {chain.course}/{chain.chain}: {who}: {problem['where']}: {problem['message']}", flush=True)

    if args.once:
        summary = verify_pass(engine, now, limit=args.limit)
        show(summary)
        return ATTENTION if summary.problems else OK
    loop = VerificationLoop(engine, settings.verification.every_seconds, now, on_pass=show, limit=args.limit)
    signal.signal(signal.SIGTERM, lambda *_: loop.request_stop())
    print(f"city watch: a verification pass every {settings.verification.every_seconds:g} s "
          "(SIGTERM or Ctrl-C stops it)", flush=True)
    loop.run()
    return OK
