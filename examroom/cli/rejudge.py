"""``examroom rejudge``: judge a stored attempt again from its journal, optionally under another rule set."""

from __future__ import annotations

import json
from pathlib import Path

from examroom.cli.options import DEFAULT_COURSE, rule_set


def add_parser(sub) -> None:
    rejudge = sub.add_parser("rejudge", help="judge a stored attempt again from its journal")
    rejudge.add_argument("attempt", type=int, help="attempt id")
    rejudge.add_argument("--database", required=True, help="database URL (sqlite:///... or postgresql+psycopg://...)")
    rejudge.add_argument("--course", type=Path, default=DEFAULT_COURSE, help="course file the attempt was driven on")
    rejudge.add_argument("--rules", type=rule_set,
                         help="another rule set to compare with: a TOML file or a shipped name")
    rejudge.add_argument("--province", type=Path, action="append", default=[],
                         help="province override file for --rules")
    rejudge.add_argument("--json", action="store_true", help="print as JSON")
    rejudge.set_defaults(run=run)


def run(args) -> int:
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
