"""The ``examroom`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULT_RULES = CONFIG_DIR / "rules" / "ga1026-2022.toml"
DEFAULT_COURSE = CONFIG_DIR / "courses" / "demo.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="examroom", description="科目二 exam-room controller")
    sub = parser.add_subparsers(dest="command", required=True)

    judge = sub.add_parser("judge", help="judge a recorded observation stream (JSON Lines)")
    judge.add_argument("trace", type=Path, help="JSON Lines journal of one attempt ('-' for stdin)")
    judge.add_argument("--course", type=Path, default=DEFAULT_COURSE, help="course file (TOML)")
    judge.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="rule set file (TOML)")
    judge.add_argument("--json", action="store_true", help="print the result as JSON")
    judge.set_defaults(run=_judge)

    rules = sub.add_parser("rules", help="list the rule set")
    rules.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="rule set file (TOML)")
    rules.add_argument("--class", dest="vehicle_class", help="only rules that apply to this class")
    rules.add_argument("--json", action="store_true", help="print as JSON")
    rules.set_defaults(run=_rules)

    demo = sub.add_parser("demo", help="run a whole simulated course with the web page")
    demo.add_argument("--dir", type=Path, help="data folder (default: a new temporary folder)")
    demo.add_argument("--speed", type=float, default=1.0, help="simulation speed-up factor (default 1)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080, help="web port (0: any free port)")
    demo.add_argument("--rounds", type=int, default=0, help="stop after this many rounds (0: run forever)")
    demo.set_defaults(run=_demo)

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
    except (ValueError, OSError) as exc:
        # Broken inputs (course file, journal, settings) get one clear line, not a trace.
        print(f"examroom {args.command}: {exc}", file=sys.stderr)
        return 2


def _judge(args) -> int:
    from scoring.course import load_course
    from scoring.judge import judge_stream
    from scoring.observations import read_jsonl
    from scoring.report import result_to_dict
    from scoring.rules import load_ruleset

    course = load_course(args.course)
    ruleset = load_ruleset(args.rules)
    if str(args.trace) == "-":
        result = judge_stream(read_jsonl(sys.stdin, "<stdin>"), course, ruleset)
    else:
        with open(args.trace, encoding="utf-8") as lines:
            result = judge_stream(read_jsonl(lines, str(args.trace)), course, ruleset)
    report = result_to_dict(result)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        verdict = "合格" if report["passed"] else "不合格"
        print(f"{report['status']}  {verdict}  成绩 {report['score']}")
        for d in report["deductions"]:
            points = "不合格" if d["disqualify"] else f"-{d['points']}"
            print(f"  {d['t']:9.2f}s  {d['item'] or '-':<10} {d['rule']:<28} {d['code'] or '':<8} {points:>6}  {d['title']}")
    return 0


def _rules(args) -> int:
    from scoring.rules import load_ruleset, ruleset_to_dict

    ruleset = load_ruleset(args.rules)
    table = ruleset_to_dict(ruleset, vehicle_class=args.vehicle_class)
    if args.json:
        print(json.dumps(table, ensure_ascii=False, indent=2))
    else:
        print(f"{table['id']}  ({len(table['rules'])} rules)")
        for rule in table["rules"]:
            points = "不合格" if rule["disqualify"] else f"-{rule['points']}"
            print(f"  {rule['id']:<30} {rule.get('code') or '':<8} {points:>6}  {rule['title']}")
    return 0


def _demo(args) -> int:
    from examroom.demo import run_demo

    return run_demo(data_dir=args.dir, speed=args.speed, host=args.host, port=args.port,
                    rounds=args.rounds)


def _serve(args) -> int:
    from examroom.serve import serve

    return serve(args.site, host=args.host, port=args.port)


def _devices_check(args) -> int:
    from examroom.selfcheck_command import run_check

    return run_check(args.site, settle=args.settle, walk_timeout=args.walk_timeout, walk=not args.no_walk,
                     as_json=args.json)


def _replay(args) -> int:
    from examroom.attempt_capture import attempt_dir
    from examroom.database import make_engine, session_factory
    from examroom.records import Records
    from examroom.replay import compare, replay_attempt
    from examroom.settings import load_settings
    from scoring.course import load_course
    from scoring.rules import load_ruleset

    settings = load_settings(args.site)
    if settings.raw_capture_dir is None:
        raise ValueError(f"{args.site}: raw_capture_dir is not set, nothing was captured")
    records = Records(session_factory(make_engine(settings.database_url)))
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
