"""``examroom rules``: list the effective rule set (standard version, province and course layers)."""

from __future__ import annotations

import json
from pathlib import Path

from examroom.cli.options import DEFAULT_RULES, RULES_HELP, rule_set


def add_parser(sub) -> None:
    rules = sub.add_parser("rules", help="list the rule set")
    rules.add_argument("--rules", type=rule_set, default=DEFAULT_RULES, help=RULES_HELP)
    rules.add_argument("--class", dest="vehicle_class", help="only rules that apply to this class")
    rules.add_argument("--province", type=Path, action="append", default=[],
                       help="province override file (TOML), applied after the standard version")
    rules.add_argument("--course", type=Path, help="course file whose [overrides] apply last")
    rules.add_argument("--json", action="store_true", help="print as JSON")
    rules.set_defaults(run=run)


def run(args) -> int:
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
