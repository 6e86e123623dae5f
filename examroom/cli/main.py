"""The ``examroom`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scoring.events import Status

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
DEFAULT_RULES = CONFIG_DIR / "rules" / "ga1026-2022.toml"
DEFAULT_COURSE = CONFIG_DIR / "courses" / "demo.toml"
RULES_DIR = CONFIG_DIR / "rules"

# What `examroom judge` prints first for each status: the verdict, or that there is none and why.
_VERDICTS = {
    Status.PASSED.value: "passed  合格",
    Status.FAILED.value: "failed  不合格",
    Status.RUNNING.value: "unfinished  未完成  (no verdict: the journal ends before the attempt does)",
    Status.WAITING.value: "unfinished  未完成  (no verdict: the journal has no start command)",
    Status.SUSPENDED.value: "unfinished  未完成  (no verdict: suspended by a device fault 设备故障 when the journal ends)",
    Status.ABORTED.value: "aborted  中止  (no verdict: stopped by the supervisor)",
    Status.DEVICE_FAULT.value: "device_fault  设备故障  (no verdict: the attempt is run again)",
}


def rule_set(value: str) -> Path:
    """A ``--rules`` value: a rule set file, or the name of a shipped one (``ga1026-2012``)."""
    path = Path(value)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    shipped = RULES_DIR / f"{value}.toml"
    if shipped.is_file():
        return shipped
    names = ", ".join(sorted(p.stem for p in RULES_DIR.glob("*.toml")))
    raise argparse.ArgumentTypeError(f"{value!r} is neither a rule set file nor a shipped rule set ({names})")



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="examroom", description="科目二 exam-room controller")
    sub = parser.add_subparsers(dest="command", required=True)

    judge = sub.add_parser("judge", help="judge a recorded observation stream (JSON Lines)")
    judge.add_argument("trace", type=Path, help="JSON Lines journal of one attempt ('-' for stdin)")
    judge.add_argument("--course", type=Path, default=DEFAULT_COURSE, help="course file (TOML)")
    judge.add_argument("--rules", type=rule_set, default=DEFAULT_RULES, help="rule set: a TOML file or a shipped name (ga1026-2022, ga1026-2012)")
    judge.add_argument("--json", action="store_true", help="print the result as JSON")
    judge.set_defaults(run=_judge)

    rules = sub.add_parser("rules", help="list the rule set")
    rules.add_argument("--rules", type=rule_set, default=DEFAULT_RULES, help="rule set: a TOML file or a shipped name (ga1026-2022, ga1026-2012)")
    rules.add_argument("--class", dest="vehicle_class", help="only rules that apply to this class")
    rules.add_argument("--province", type=Path, action="append", default=[],
                       help="province override file (TOML), applied after the standard version")
    rules.add_argument("--course", type=Path, help="course file whose [overrides] apply last")
    rules.add_argument("--json", action="store_true", help="print as JSON")
    rules.set_defaults(run=_rules)

    rejudge = sub.add_parser("rejudge", help="judge a stored attempt again from its journal")
    rejudge.add_argument("attempt", type=int, help="attempt id")
    rejudge.add_argument("--database", required=True, help="database URL (sqlite:///... or postgresql+psycopg://...)")
    rejudge.add_argument("--course", type=Path, default=DEFAULT_COURSE, help="course file the attempt was driven on")
    rejudge.add_argument("--rules", type=rule_set,
                         help="another rule set to compare with: a TOML file or a shipped name")
    rejudge.add_argument("--province", type=Path, action="append", default=[],
                         help="province override file for --rules")
    rejudge.add_argument("--json", action="store_true", help="print as JSON")
    rejudge.set_defaults(run=_rejudge)

    course = sub.add_parser("course", help="build or draw a course file")
    course_sub = course.add_subparsers(dest="course_command", required=True)
    new = course_sub.add_parser("new", help="write a standard course for a class from its vehicle (GA 1029 formulas)")
    new.add_argument("--class", dest="vehicle_class", required=True, help="licence class (C3, M, C4, D, E, F, G1, ...)")
    new.add_argument("--vehicle-length", type=float, required=True, help="exam vehicle length, m")
    new.add_argument("--vehicle-width", type=float, required=True, help="exam vehicle width (without mirrors), m")
    new.add_argument("--wheelbase", type=float, help="m (default: from the length)")
    new.add_argument("--track", type=float, help="m (default: from the width)")
    new.add_argument("--kind", choices=("two_wheeler", "three_wheeler", "sidecar", "four_wheeler"),
                     help="vehicle kind (default by class; a 侧三轮 D is sidecar)")
    new.add_argument("--pile-layout", default="slalom", choices=("slalom", "bay_shift"), help="C4 桩考 layout")
    surveyed = new.add_argument_group("geometry a surveyor sets (default: the GA 1029 formulas, docs/course-file.md)")
    surveyed.add_argument("--piles", type=int, help="桩考 pile count (default 5)")
    surveyed.add_argument("--pile-spacing", type=float, help="m between piles (default: length + 0.5 / 0.4 / 0.8 m)")
    surveyed.add_argument("--pile-edge-distance", type=float,
                          help="m from the pile line to each boundary line's centre (default: width + 0.3 m)")
    surveyed.add_argument("--pole-radius", type=float, help="m (default 0.05)")
    surveyed.add_argument("--line-width", type=float, help="m, every painted line (default 0.15)")
    surveyed.add_argument("--line-reference", choices=("centre", "inner_edge"),
                          help="where lines are judged (default centre)")
    new.add_argument("--no-route-check", action="store_true",
                     help="do not run the route planner on the course written (it takes seconds per vehicle)")
    new.add_argument("--name", help="course name (default: '<class>标准考场')")
    new.add_argument("-o", "--output", type=Path, required=True, help="course file to write (TOML)")
    new.set_defaults(run=_course_new)
    show = course_sub.add_parser("show", help="draw a course file as a PNG")
    show.add_argument("file", type=Path, help="course file (TOML)")
    show.add_argument("-o", "--output", type=Path, required=True, help="PNG to write")
    show.add_argument("--scale", type=float, default=30.0, help="pixels per metre (default 30)")
    show.set_defaults(run=_course_show)
    check_course = course_sub.add_parser(
        "check", help="run the route planner on a course file: is there a clean route for each exam vehicle?")
    check_course.add_argument("file", type=Path, help="course file (TOML), e.g. a surveyed one")
    check_course.add_argument("--rules", type=rule_set, default=DEFAULT_RULES,
                              help="rule set (its hill reference points): a TOML file or a shipped name")
    check_course.set_defaults(run=_course_check)

    demo = sub.add_parser("demo", help="run a whole simulated course with the web page")
    demo.add_argument("--dir", type=Path, help="data folder (default: a new temporary folder)")
    demo.add_argument("--speed", type=float, default=1.0, help="simulation speed-up factor (default 1)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080, help="web port (0: any free port)")
    demo.add_argument("--rounds", type=int, default=0, help="stop after this many rounds (0: run forever)")
    demo.add_argument("--verbose", action="store_true",
                      help="show the log here (default: in demo.log in the data folder)")
    demo.set_defaults(run=_demo)

    users = sub.add_parser("users", help="accounts of administrators, supervisors and auditors")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create an account (the password is read from standard input)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["admin", "supervisor", "auditor"])
    add.add_argument("--name", default="", help="name shown on screens")
    add.add_argument("--scope", default="", help="for an auditor: the course they may see, or a city's courses separated by commas (empty: all)")
    add.add_argument("--database", required=True, help="database URL, e.g. sqlite:///course.sqlite3")
    add.set_defaults(run=_users_add)
    passwd = users_sub.add_parser("passwd", help="set a new password (read from standard input); ends the "
                                                 "account's sessions")
    passwd.add_argument("username")
    passwd.add_argument("--database", required=True, help="database URL")
    passwd.set_defaults(run=_users_passwd)
    disable = users_sub.add_parser("disable", help="the account can no longer sign in; ends its sessions")
    disable.add_argument("username")
    disable.add_argument("--database", required=True, help="database URL")
    disable.set_defaults(run=_users_disable)
    from examroom.cli.examday import add_parsers as add_examday_parsers

    add_examday_parsers(sub, DEFAULT_COURSE)
    from examroom.cli.export import add_parser as add_export_parser

    add_export_parser(sub)
    serve = sub.add_parser("serve", help="run the course controller and web page on a site's hardware")
    serve.add_argument("--site", type=Path, required=True, help="site settings (TOML), e.g. config/sites/*.toml")
    serve.add_argument("--host", help="web host (default: the site's [web] host)")
    serve.add_argument("--port", type=int, help="web port (default: the site's [web] port)")
    serve.set_defaults(run=_serve)

    devices = sub.add_parser("devices", help="device tools")
    devices_sub = devices.add_subparsers(dest="devices_command", required=True)
    check = devices_sub.add_parser("check", help="pre-sitting self-check (场地信号检测) of a site's devices")
    check.add_argument("--site", type=Path, required=True, help="site settings (TOML)")
    check.add_argument("--settle", type=float, default=3.0, help="seconds to wait for the devices (default 3)")
    check.add_argument("--walk-timeout", type=float, default=300.0, help="seconds for the walk-round (default 300)")
    check.add_argument("--no-walk", action="store_true", help="check the devices only, no walk-round")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(run=_devices_check)

    replay = sub.add_parser("replay", help="judge an attempt again from its raw device bytes")
    replay.add_argument("attempt", type=int, help="attempt id")
    replay.add_argument("--site", type=Path, required=True, help="site settings (TOML) with raw_capture_dir")
    replay.set_defaults(run=_replay)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``examroom rules --json | head``): not an error of ours.
        sys.stderr.close()
        return 0
    except FileNotFoundError as exc:
        print(f"examroom {args.command}: no such file: {exc.filename}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:
        # Broken inputs (course file, journal, settings) get one clear line, not a trace.
        print(f"examroom {args.command}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, SQLAlchemyError):
            raise
        # A database that cannot be reached or read (server down, not examroom's): its own words.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"examroom {args.command}: database: {reason}", file=sys.stderr)
        return 2


def _judge(args) -> int:
    from examroom.live.routing import judge_journal
    from scoring.course import load_course
    from scoring.observations import read_jsonl
    from scoring.report import result_to_dict
    from scoring.rules import load_ruleset

    course = load_course(args.course)
    ruleset = load_ruleset(args.rules)
    # Lines are read as bytes: the reader checks their UTF-8 itself and names the line.
    if str(args.trace) == "-":
        result = judge_journal(read_jsonl(getattr(sys.stdin, "buffer", sys.stdin), "<stdin>"), course, ruleset)
    else:
        with open(args.trace, "rb") as lines:
            result = judge_journal(read_jsonl(lines, str(args.trace)), course, ruleset)
    report = result_to_dict(result)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        verdict = report["status"] in (Status.PASSED.value, Status.FAILED.value)
        print(_VERDICTS[report["status"]] + (f"  成绩 {report['score']}" if verdict else ""))
        for d in report["deductions"]:
            points = "不合格" if d["disqualify"] else f"-{d['points']}"
            print(f"  {d['t']:9.2f}s  {d['item'] or '-':<10} {d['rule']:<28} {d['code'] or '':<8} {points:>6}  {d['title']}")
    return 0


def _rules(args) -> int:
    from scoring.rules import load_ruleset, ruleset_to_dict
    from scoring.overrides import effective_ruleset, load_override_file

    provinces = tuple(load_override_file(path) for path in args.province)
    course = None
    if args.course is not None:
        from scoring.course import load_course

        course = load_course(args.course)
    ruleset = effective_ruleset(load_ruleset(args.rules), provinces,
                                course.overrides if course else None, course.name if course else "")
    table = ruleset_to_dict(ruleset, vehicle_class=args.vehicle_class)
    known = sorted({cls for rule in ruleset_to_dict(ruleset)["rules"] for cls in rule.get("classes", [])})
    if args.vehicle_class is not None and args.vehicle_class not in known:
        raise ValueError(f"--class {args.vehicle_class}: no rule applies to it (classes: {', '.join(known)})")
    if args.json:
        print(json.dumps(table, ensure_ascii=False, indent=2))
    else:
        print(f"{table['id']}  ({len(table['rules'])} rules)  sha256 {table['hash']}")
        for layer in table["layers"]:
            print(f"  [{layer['kind']}] {layer['name']}: {layer['source']}" + (f" — {layer['detail']}" if layer["detail"] else ""))
        for rule in table["rules"]:
            points = "不合格" if rule["disqualify"] else f"-{rule['points']}"
            state = "" if rule["enabled"] else "  (off)"
            print(f"  {rule['id']:<30} {rule.get('code') or '':<8} {points:>6}  {rule['title']}{state}")
    return 0


def _rejudge(args) -> int:
    from examroom.records.database import make_engine, session_factory
    from examroom.records.attempt_log import Records
    from examroom.live.rejudge import rejudge, report_text
    from scoring.course import load_course
    from scoring.overrides import effective_ruleset, load_override_file
    from scoring.rules import load_ruleset

    course = load_course(args.course)
    other = None
    if args.rules is not None:
        provinces = tuple(load_override_file(path) for path in args.province)
        other = effective_ruleset(load_ruleset(args.rules), provinces)
    elif args.province:
        raise ValueError("--province applies to --rules; give the rule set file too")
    engine = make_engine(args.database, existing=True)
    try:
        report = rejudge(Records(session_factory(engine)), args.attempt, course, other).to_dict()
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(report_text(report))
    return 0


def _course_new(args) -> int:
    from examroom.coursetools.builder import Geometry, VehicleSpec, build_course, write_course

    spec = VehicleSpec(args.vehicle_class, args.vehicle_length, args.vehicle_width, kind=args.kind,
                       wheelbase=args.wheelbase, track=args.track)
    geometry = Geometry(piles=args.piles, pile_spacing=args.pile_spacing, pile_edge_distance=args.pile_edge_distance,
                        pole_radius=args.pole_radius, line_width=args.line_width, line_reference=args.line_reference)
    data = build_course(spec, name=args.name, pile_layout=args.pile_layout, geometry=geometry)
    path = write_course(data, spec, args.output)
    print(f"{path}: {data['name']}, class {args.vehicle_class}, items {', '.join(i['id'] for i in data['items'])}")
    if not args.no_route_check:
        from scoring.course import parse_course
        from scoring.rules import load_ruleset

        course = parse_course(data)
        if not _route_checks(course, load_ruleset(DEFAULT_RULES), warn=True):
            print(f"examroom course: warning: {_pile_hint(course)}", file=sys.stderr)
    return 0


def _pile_hint(course) -> str:
    """What a surveyor can change when the slalom is too tight, with the values written."""
    import math

    from scoring.item_geometry import PileItem

    for item in course.items.values():
        if isinstance(item, PileItem) and len(item.poles) > 1:
            spacing = math.dist(item.poles[0].position, item.poles[1].position)
            edge = min(abs(line.side(item.poles[0].position)) for line in item.boundary_lines)
            return (f"{item.id}: piles {spacing:.2f} m apart, {edge:.2f} m from the pile line to the boundary "
                    f"lines; give a larger --pile-edge-distance or --pile-spacing (the file is written as it is)")
    return "the file is written as it is"


def _route_checks(course, ruleset, warn: bool) -> bool:
    """Print the planner's verdict per exam vehicle; True when every checked vehicle has a clean route."""
    from examroom.coursetools.routes import check_routes

    clean = True
    for check in check_routes(course, ruleset):
        if check.checked and not check.clean:
            clean = False
            if warn:
                print(f"examroom course: warning: {check.line()}", file=sys.stderr)
                continue
        print(check.line())
    return clean


def _course_check(args) -> int:
    from scoring.course import load_course
    from scoring.rules import load_ruleset

    return 0 if _route_checks(load_course(args.file), load_ruleset(args.rules), warn=False) else 1


def _course_show(args) -> int:
    from examroom.coursetools.drawing import draw_course
    from scoring.course import load_course

    path = draw_course(load_course(args.file), args.output, scale=args.scale)
    print(path)
    return 0


def _read_password() -> str:
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ValueError("the two passwords differ")
        return password
    return sys.stdin.readline().rstrip("\n")


def _accounts(url: str):
    from examroom.accounts.users import Accounts
    from examroom.records.database import make_engine, session_factory, upgrade

    engine = make_engine(url)
    upgrade(engine)
    return Accounts(session_factory(engine))


def _users_add(args) -> int:
    password = _read_password()
    account = _accounts(args.database).create(args.username, password, args.role, args.name, args.scope)
    print(f"created {account.role.value} {account.username}")
    return 0


def _users_passwd(args) -> int:
    ended = _accounts(args.database).set_password(args.username, _read_password())
    print(f"new password for {args.username}; {ended} session(s) ended")
    return 0


def _users_disable(args) -> int:
    ended = _accounts(args.database).disable(args.username)
    print(f"disabled {args.username}; {ended} session(s) ended")
    return 0


def _demo(args) -> int:
    from examroom.simulation.demo import run_demo

    return run_demo(data_dir=args.dir, speed=args.speed, host=args.host, port=args.port,
                    rounds=args.rounds, verbose=args.verbose)


def _serve(args) -> int:
    from examroom.cli.serve import serve

    return serve(args.site, host=args.host, port=args.port)


def _devices_check(args) -> int:
    from examroom.cli.selfcheck import run_check

    return run_check(args.site, settle=args.settle, walk_timeout=args.walk_timeout, walk=not args.no_walk,
                     as_json=args.json)


def _replay(args) -> int:
    from examroom.station.capture import attempt_dir
    from examroom.records.database import make_engine, session_factory
    from examroom.records.attempt_log import Records
    from examroom.station.raw_replay import compare, replay_attempt
    from examroom.site.settings import load_settings
    from scoring.course import load_course
    from scoring.rules import load_ruleset

    settings = load_settings(args.site)
    if settings.raw_capture_dir is None:
        raise ValueError(f"{args.site}: raw_capture_dir is not set, nothing was captured")
    records = Records(session_factory(make_engine(settings.database_url, existing=True)))
    attempt = records.attempt(args.attempt)
    if attempt is None:
        raise ValueError(f"no attempt {args.attempt} in {settings.database_url}")
    directory = attempt_dir(settings.raw_capture_dir, args.attempt)
    if not directory.is_dir():
        raise ValueError(f"attempt {args.attempt}: no raw capture in {directory}")
    replayed = replay_attempt(directory, list(records.journal_lines(args.attempt)), settings,
                              load_course(settings.course_file), load_ruleset(settings.rule_set_file))
    counts = ", ".join(f"{device} {n}" for device, n in replayed.readings.items())
    print(f"attempt {args.attempt}: readings from raw bytes: {counts}")
    differences = compare(attempt.result or {}, replayed.result)
    for line in differences:
        print(f"  differs: {line}")
    print("same judgement" if not differences else f"{len(differences)} difference(s)")
    return 0 if not differences else 1


if __name__ == "__main__":
    sys.exit(main())
