"""``examroom judge``: judge a recorded observation stream (JSON Lines) and print the verdict."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from examroom.cli.options import DEFAULT_COURSE, DEFAULT_RULES, RULES_HELP, rule_set
from scoring.events import Status

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


def add_parser(sub) -> None:
    judge = sub.add_parser("judge", help="judge a recorded observation stream (JSON Lines)")
    judge.add_argument("trace", type=Path, help="JSON Lines journal of one attempt ('-' for stdin)")
    judge.add_argument("--course", type=Path, default=DEFAULT_COURSE, help="course file (TOML)")
    judge.add_argument("--rules", type=rule_set, default=DEFAULT_RULES, help=RULES_HELP)
    judge.add_argument("--json", action="store_true", help="print the result as JSON")
    judge.set_defaults(run=run)


def run(args) -> int:
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
