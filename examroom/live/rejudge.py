"""Re-judge a stored attempt from its journal, under its own rule set or another one.

The journal holds every observation the live judge saw, in order; the attempt
row holds the effective rule set that judged it (``rule_set_snapshot``, with
its hash) and the course it was driven on (``course_snapshot``, with its
hash). Judging the journal again under those snapshots must give the stored
result (``reproduces``); judging it under another rule set shows what a rule
change would have done to this candidate (``differences``). The course file
given (the command line's ``--course``, the web process's course) is only
compared: when it is not the course of that day, the answer says so
(``course["changed"]``). Attempts stored before course snapshots are judged
on the course given. The command line and the auditor's page both call
:func:`rejudge`; it judges the journal with the live router's journal judge
(:func:`examroom.live.routing.judge_journal`), which is why it lives in ``live``:
a journal is judged again exactly the way ``examroom judge`` judges it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from examroom.live.routing import judge_journal
from examroom.messages import N_, SupervisorError
from examroom.records.course_snapshot import course_from_snapshot, course_sha256, snapshot_sha256
from examroom.records.attempt_log import Records
from examroom.records.result_diff import compare, difference_lines, same
from scoring.course import Course
from scoring.events import AttemptResult
from scoring.observations import Observation, read_jsonl
from scoring.report import result_to_dict
from scoring.rule_snapshot import ruleset_from_dict
from scoring.rules import RuleSet, ruleset_to_dict


class RejudgeError(SupervisorError, ValueError):
    """The attempt cannot be re-judged as asked (unknown, no journal, no rule set, wrong course)."""


@dataclass(frozen=True)
class Rejudgement:
    attempt_id: int
    stored: dict[str, Any] | None  # the result recorded when the attempt ended
    own: dict[str, Any]  # re-judged under the attempt's own rule set
    other: dict[str, Any] | None  # re-judged under the other rule set, if one was given
    own_rule_set: dict[str, str]
    other_rule_set: dict[str, str] | None
    # name, sha256 (the attempt's), source ("snapshot" | "given"), given_sha256, changed
    course: dict[str, Any] | None = None

    @property
    def reproduces(self) -> bool | None:
        """Does the re-judge under the attempt's own rules give the stored verdict and deductions?"""
        if self.stored is None or "deductions" not in self.stored:
            return None
        return same(self.stored, self.own)

    @property
    def differences(self) -> dict[str, Any] | None:
        return None if self.other is None else compare(self.own, self.other)

    def to_dict(self) -> dict[str, Any]:
        return {"attempt": self.attempt_id, "own_rule_set": self.own_rule_set,
                "other_rule_set": self.other_rule_set, "course": self.course, "stored": self.stored,
                "own": self.own, "reproduces": self.reproduces, "other": self.other,
                "differences": self.differences}

    def stored_differences(self) -> list[str]:
        """What the re-judge under the attempt's own rules changes from the stored result, one line each."""
        return difference_lines(self.stored, self.own)


def _rule_set_label(ruleset: RuleSet) -> dict[str, str]:
    data = ruleset_to_dict(ruleset)
    return {"id": data["id"], "hash": data["hash"]}


# Judges one attempt's journal: observations, course, rule set -> result.
JournalJudge = Callable[[Iterable[Observation], Course, RuleSet], AttemptResult]


def rejudge(records: Records, attempt_id: int, course: Course | None, other: RuleSet | None = None, *,
            judge: JournalJudge = judge_journal) -> Rejudgement:
    """Judge a stored attempt's journal again under its own rule set and course and, if given, ``other``.

    ``course``: the course file at hand; judged on only for attempts stored without a course
    snapshot, otherwise compared with the snapshot (``course["changed"]``).

    ``judge``: how a journal is judged; the live router's journal judge unless a test gives another.
    """
    attempt = records.attempt(attempt_id)
    if attempt is None:
        raise RejudgeError(N_("数据库中没有考试%(attempt)s"), attempt=attempt_id)
    if attempt.rule_set_snapshot is None:
        raise RejudgeError(N_("考试%(attempt)s未保存评判规则（记录于规则快照之前，规则编号 %(rule_set)s）：不能按其自身规则重新评判；"
                              "请用 examroom judge 和该编号的规则文件评判其日志"), attempt=attempt_id,
                           rule_set=attempt.rule_set)
    own_course, course_info = _own_course(attempt, course)
    own_rules = ruleset_from_dict(attempt.rule_set_snapshot)
    lines = list(records.journal_lines(attempt_id))
    if not lines:
        raise RejudgeError(N_("考试%(attempt)s没有日志"), attempt=attempt_id)
    source = f"attempt {attempt_id} journal"
    own = result_to_dict(judge(read_jsonl(lines, source), own_course, own_rules))
    other_result = None
    if other is not None:
        other_result = result_to_dict(judge(read_jsonl(lines, source), own_course, other))
    return Rejudgement(attempt_id=attempt_id, stored=attempt.result, own=own, other=other_result,
                       own_rule_set=_rule_set_label(own_rules),
                       other_rule_set=None if other is None else _rule_set_label(other.with_overrides(
                           own_course.overrides, f"course:{own_course.name}")),
                       course=course_info)


def _own_course(attempt, given: Course | None) -> tuple[Course, dict[str, Any]]:
    """The course the attempt was driven on, and what is known of it against the one given."""
    given_sha = None if given is None else course_sha256(given)
    if attempt.course_snapshot is not None:
        if snapshot_sha256(attempt.course_snapshot) != attempt.course_sha256:
            raise RejudgeError(N_("考试%(attempt)s：保存的考场快照与其哈希 %(sha256)s 不符，已被改动（见 examroom verify）"),
                               attempt=attempt.id, sha256=attempt.course_sha256)
        own = course_from_snapshot(attempt.course_snapshot)
        changed = None if given is None else (given.name != own.name or given_sha != attempt.course_sha256)
        return own, {"name": own.name, "sha256": attempt.course_sha256, "source": "snapshot",
                     "given_sha256": given_sha, "changed": changed}
    if given is None:
        raise RejudgeError(N_("考试%(attempt)s未保存考场（记录于考场快照之前）：请给出考试时所用的考场文件"),
                           attempt=attempt.id)
    if attempt.course != given.name:
        raise RejudgeError(N_("考试%(attempt)s在考场 %(course)s 进行，所给考场文件为 %(given)s"),
                           attempt=attempt.id, course=attempt.course, given=given.name)
    # Without a snapshot, only a stored hash can tell whether the file is that day's.
    changed = None if attempt.course_sha256 is None or given_sha is None else given_sha != attempt.course_sha256
    return given, {"name": given.name, "sha256": attempt.course_sha256, "source": "given",
                   "given_sha256": given_sha, "changed": changed}


def course_note(course: dict[str, Any] | None) -> str:
    """One line on the course a re-judge ran on, for people."""
    if not course:
        return ""
    if course["source"] == "snapshot":
        text = f"course {course['name']}: the course stored with the attempt (sha256 {course['sha256'][:12]}…)"
        if course["changed"]:
            given = course["given_sha256"][:12] + "…" if course["given_sha256"] else "built in code"
            text += f"; the course file given differs (sha256 {given}): the course changed since"
        return text
    if course["changed"]:
        return (f"course {course['name']}: CHANGED since the attempt (stored sha256 {course['sha256'][:12]}…, "
                f"the file given {course['given_sha256'][:12]}…): re-judged on today's course")
    return f"course {course['name']}: the course file given (no course stored with the attempt)"


def report_text(report: dict[str, Any]) -> str:
    """``Rejudgement.to_dict()`` for people: both results, their deductions, the differences."""
    out = [f"attempt {report['attempt']}"]
    if report.get("course"):
        out.append(f"  {course_note(report['course'])}")
    if report["stored"] is not None:
        out.append(f"  stored:   {report['stored']['status']}  score {report['stored'].get('score')}")
    for label, key, rules in (("own", "own", report["own_rule_set"]), ("other", "other", report["other_rule_set"])):
        result = report[key]
        if result is None:
            continue
        out.append(f"  {label + ':':<9} {result['status']}  score {result['score']}  under {rules['id']} "
                   f"(sha256 {rules['hash'][:12]}…)")
        for d in result["deductions"]:
            points = "不合格" if d["disqualify"] else f"-{d['points']}"
            out.append(f"      {d['t']:9.2f}s  {d['rule']:<28} {points:>6}  {d['title']}")
    if report["reproduces"] is not None:
        out.append(f"  reproduces the stored result: {'yes' if report['reproduces'] else 'NO'}")
    diff = report["differences"]
    if diff is not None:
        out.append("  differences (own → other):")
        for name in ("status", "passed", "score"):
            if diff[name] is not None:
                out.append(f"    {name}: {diff[name][0]} → {diff[name][1]}")
        for d in diff["only_before"]:
            out.append(f"    only under own rules:   {d['t']:9.2f}s {d['rule']}")
        for d in diff["only_after"]:
            out.append(f"    only under other rules: {d['t']:9.2f}s {d['rule']}")
        for c in diff["points_changed"]:
            out.append(f"    points changed: {c['t']:9.2f}s {c['rule']} {c['points'][0]} → {c['points'][1]}")
        if not any(diff[k] for k in diff):
            out.append("    none")
    return "\n".join(out)
