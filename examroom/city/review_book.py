"""The city's book of random reviews (抽检): a week's seed committed, the draw, assignments, outcomes.

Kept in the city-only tables of migration 0015 (``city_draws``, ``city_samples``,
``city_assignments``, ``city_review_outcomes``); every commitment, draw, assignment and outcome
also goes into the city's audit log (the audit chain of the city's code, ``city_code`` in the city
settings). The draw itself is ``examroom.city.sampling.draw``; what makes an attempt always reviewed
is ``examroom.city.attempt_classes``. docs/city-sampling.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from examroom.accounts.audit import AuditLog
from examroom.city import attempt_classes, sampling
from examroom.city.watch_settings import SamplingSettings
from examroom.courseclock import as_utc
from examroom.messages import N_, SupervisorError
from examroom.records.database import session_factory
from examroom.records.models import CityAssignment, CityDraw, CityReviewOutcome, CitySample

# An inspector's finding on a sampled attempt, as stored, and the words people read.
OUTCOMES = {"consistent": N_("一致"), "doubtful": N_("存疑"), "wrong": N_("判定有误")}


class ReviewError(SupervisorError):
    """A review step refused (week not over, seed already revealed, not the assigned inspector...)."""


SEED_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Finding:
    """A difference a re-check of a draw found: ``text`` for logs and commands (English), the Chinese
    ``msgid`` and ``params`` for pages; ``course`` is None for the week as a whole."""

    course: str | None
    text: str
    msgid: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SampleView:
    id: int
    course: str
    attempt: int
    reasons: tuple[str, ...]
    ticket: str
    inspector: str | None  # the latest assignment
    outcome: str | None  # the latest outcome
    notes: str


class ReviewBook:
    def __init__(self, engine: Engine, city_code: str, settings: SamplingSettings) -> None:
        self.sessions = session_factory(engine, None)  # the city's: every course's records
        self.audit = AuditLog(session_factory(engine, city_code))  # the city's own audit chain
        self.settings = settings

    # -- the seed ---------------------------------------------------------------
    def commit_week(self, day, actor: str, now: datetime, seed: bytes | None = None, keep_seed: bool = True) -> str:
        """Fix the seed of the week holding ``day`` and publish its commitment; before the week starts.

        ``keep_seed=False``: only the commitment is stored; whoever committed holds the seed and gives it
        to :meth:`reveal_and_draw` (then not even the city's database knows the draw during the week).
        """
        week, starts, ends = attempt_classes.week_of(day)
        if as_utc(now) >= starts:
            raise ReviewError(N_("%(week)s 已经开始：抽检种子的承诺值须在该周开始前公布"), week=week)
        seed = sampling.new_seed() if seed is None else seed
        digest = sampling.commitment(seed)
        with self.sessions.begin() as session:
            if session.scalar(select(CityDraw.id).where(CityDraw.week == week)) is not None:
                raise ReviewError(N_("%(week)s 的抽检种子已经承诺过，不能更换"), week=week)
            session.add(CityDraw(week=week, starts_utc=starts, ends_utc=ends, commitment=digest, committed_utc=now,
                                 seed=seed.hex() if keep_seed else None, beacon=""))
        self.audit.record(now, actor, "city", "city_commit_seed", week,
                          f"sha256(seed) = {digest}" + ("" if keep_seed else "; seed held off the database"))
        return digest

    # -- the draw ---------------------------------------------------------------
    def reveal_and_draw(self, week: str, actor: str, now: datetime, beacon: str = "",
                        seed: str | None = None) -> list[SampleView]:
        """After the week: reveal its seed and draw each course's sample from the week's attempts.

        ``seed`` (hex): the seed revealed; needed when it was committed with ``keep_seed=False``, checked
        against the commitment whenever given. A wrong one is refused and nothing is stored.
        """
        seed = (seed or "").strip().lower() or None
        if seed is not None and not SEED_HEX.fullmatch(seed):
            raise ReviewError(N_("种子应为 64 位十六进制数"))
        with self.sessions.begin() as session:
            draw = self._draw(session, week)
            if draw.revealed_utc is not None:
                raise ReviewError(N_("%(week)s 的抽检已经抽取，不能重抽"), week=week)
            if as_utc(now) < as_utc(draw.ends_utc):
                raise ReviewError(N_("%(week)s 尚未结束，结束后才能公布种子并抽取"), week=week)
            if seed is None and draw.seed is None:
                raise ReviewError(N_("%(week)s 的种子未存入城市数据库，请输入保管的种子"), week=week)
            if seed is not None and sampling.commitment(bytes.fromhex(seed)) != draw.commitment:
                raise ReviewError(N_("输入的种子与 %(week)s 事先公布的承诺值不符，未抽取"), week=week)
            seed_hex = seed or draw.seed
            ids_by_course = attempt_classes.finished_attempts(session, draw.starts_utc, draw.ends_utc)
        seed = bytes.fromhex(seed_hex)
        populations, drawn = {}, []
        for course, ids in ids_by_course.items():
            found = attempt_classes.classes(self.sessions, course, ids)
            attempts = [sampling.Attempt(course, i, frozenset(found[i])) for i in ids]
            populations[course] = {"ids": ids, "classes": {str(i): sorted(c) for i, c in found.items() if c},
                                   "digest": sampling.population_digest(attempts)}
            drawn += sampling.draw(seed, attempts, self.settings.share, self.settings.always, beacon)
        rules = {"share": self.settings.share, "always": list(self.settings.always)}
        with self.sessions.begin() as session:
            # Locked and looked at again: two drawers at once store one draw, the other is refused.
            draw = session.scalar(select(CityDraw).where(CityDraw.week == week).with_for_update())
            if draw.revealed_utc is not None:
                raise ReviewError(N_("%(week)s 的抽检已经抽取，不能重抽"), week=week)
            draw.revealed_utc, draw.beacon, draw.rules, draw.populations = now, beacon, rules, populations
            draw.seed = seed_hex
            session.add_all([CitySample(draw_id=draw.id, course_code=d.course, attempt_id=d.id, reasons=list(d.reasons),
                                        ticket=d.ticket) for d in drawn])
        counts = {c: sum(1 for d in drawn if d.course == c) for c in populations}
        self.audit.record(now, actor, "city", "city_draw", week,
                          json.dumps({"seed": seed_hex, "beacon": beacon, "sampled": counts}, ensure_ascii=False))
        return self.samples(week)

    def published(self, week: str) -> dict:
        """What the city publishes of a week's draw: the commitment; after the draw, the seed and the sample."""
        with self.sessions() as session:
            draw = self._draw(session, week)
            revealed = draw.revealed_utc is not None
            return {"week": week, "commitment": draw.commitment, "committed_utc": as_utc(draw.committed_utc),
                    "seed": draw.seed if revealed else None, "beacon": draw.beacon if revealed else None,
                    "rules": draw.rules, "populations": draw.populations,
                    "sample": [(s.course, s.attempt, s.reasons) for s in self.samples(week)] if revealed else None}

    def recheck(self, week: str, against_records: bool = True) -> list[str]:
        """Re-run a published draw from its seed and populations; the differences from what was stored.

        ``against_records``: also read the week's attempts and their classes from the records again,
        so a population that left an attempt out (or gave one a class it has not) shows. A seal
        that stopped verifying since the draw shows here too (a new ``seal_warning``): a finding.
        """
        return [finding.text for finding in self.findings(week, against_records)]

    def findings(self, week: str, against_records: bool = True) -> list[Finding]:
        """:meth:`recheck`'s differences, each with its course and the Chinese words a page shows."""
        facts = self.published(week)
        if facts["seed"] is None:
            return [Finding(None, f"{week}: not drawn yet", N_("%(week)s 尚未抽取"), {"week": week})]
        problems = self._population_problems(week, facts["populations"]) if against_records else []
        seed = bytes.fromhex(facts["seed"])
        if sampling.commitment(seed) != facts["commitment"]:
            return [Finding(None, f"{week}: the seed does not match the commitment published before the week",
                            N_("%(week)s 公布的种子与事先公布的承诺值不符"), {"week": week})]
        rules = facts["rules"]
        stored_by_course: dict[str, set] = {}
        for course, attempt, reasons in facts["sample"]:
            stored_by_course.setdefault(course, set()).add((course, attempt, tuple(reasons)))
        for course, population in sorted(facts["populations"].items()):
            attempts = [sampling.Attempt(course, i, frozenset(population["classes"].get(str(i), ())))
                        for i in population["ids"]]
            if sampling.population_digest(attempts) != population["digest"]:
                problems.append(Finding(course, f"{course}: the population does not match its published digest",
                                        N_("%(course)s：参与抽取的考试与公布的摘要不符"), {"course": course}))
            expected = {(d.course, d.id, tuple(d.reasons))
                        for d in sampling.draw(seed, attempts, rules["share"], rules["always"], facts["beacon"])}
            stored = stored_by_course.pop(course, set())
            if stored != expected:
                problems.append(self._sample_difference(week, course, stored, expected))
        for course, stored in sorted(stored_by_course.items()):  # sampled at a course the draw never saw
            problems.append(self._sample_difference(week, course, stored, set()))
        return problems

    @staticmethod
    def _sample_difference(week: str, course: str, stored: set, expected: set) -> Finding:
        def named(rows: set) -> str:
            return "、".join(f"{c}/{a}" for c, a, _r in sorted(rows)) or "-"

        only_stored, only_rerun = stored - expected, expected - stored
        return Finding(course, f"{week}: the stored sample differs from the draw re-run: "
                               f"only stored {sorted(map(str, only_stored))}, "
                               f"only re-run {sorted(map(str, only_rerun))}",
                       N_("%(course)s：存储的抽检与按种子重算的不一致（仅存储中有：%(stored)s；仅重算有：%(rerun)s）"),
                       {"course": course, "stored": named(only_stored), "rerun": named(only_rerun)})

    def _population_problems(self, week: str, populations: dict) -> list[Finding]:
        _, starts, ends = attempt_classes.week_of(datetime.strptime(week + "-1", "%G-W%V-%u").date())
        with self.sessions() as session:
            ids_by_course = attempt_classes.finished_attempts(session, starts, ends)
        problems = []
        for course in sorted(set(ids_by_course) | set(populations)):
            ids = ids_by_course.get(course, [])
            published = populations.get(course, {"ids": [], "classes": {}})
            for missing in sorted(set(ids) - set(published["ids"])):
                problems.append(Finding(course,
                                        f"{course}/{missing}: an attempt of the week left out of the draw's population",
                                        N_("%(attempt)s：本周的考试未列入抽取范围"), {"attempt": f"{course}/{missing}"}))
            for extra in sorted(set(published["ids"]) - set(ids)):
                problems.append(Finding(course, f"{course}/{extra}: in the draw's population "
                                                "but not a finished attempt of the week",
                                        N_("%(attempt)s：列入抽取范围，却不是本周完成的考试"), {"attempt": f"{course}/{extra}"}))
            found = attempt_classes.classes(self.sessions, course, ids)
            for attempt_id in sorted(set(ids) & set(published["ids"])):
                now, then = sorted(found[attempt_id]), sorted(published["classes"].get(str(attempt_id), []))
                if now != then:
                    problems.append(Finding(course,
                                            f"{course}/{attempt_id}: classes {then} at the draw, {now} in the records now",
                                            N_("%(attempt)s：抽取时的必检类别为 %(then)s，现在记录中为 %(now)s"),
                                            {"attempt": f"{course}/{attempt_id}", "then": then, "now": now}))
        return problems

    # -- assignments and outcomes ----------------------------------------------
    def assign(self, sample_id: int, inspector: str, actor: str, now: datetime, reassign: bool = False) -> None:
        """Give a sampled attempt to an inspector; once, unless ``reassign`` (never after its outcome)."""
        inspector = inspector.strip()
        if not inspector:
            raise ReviewError(N_("请指定抽检人员"))
        with self.sessions.begin() as session:
            # Locked: two people assigning the same sample at once give it to one inspector, not two.
            sample = session.get(CitySample, sample_id, with_for_update=True)
            if sample is None:
                raise ReviewError(N_("没有抽检 %(id)s"), id=sample_id)
            if self._outcome(session, sample_id) is not None:
                raise ReviewError(N_("抽检 %(id)s 已有结论，不能再分派"), id=sample_id)
            already = self._inspector(session, sample_id)
            if already is not None and not reassign:
                raise ReviewError(N_("抽检 %(id)s 已分派给 %(inspector)s，不能重复分派"), id=sample_id,
                                  inspector=already)
            session.add(CityAssignment(sample_id=sample_id, inspector=inspector, assigned_by=actor, assigned_utc=now))
            target = f"{sample.course_code}/{sample.attempt_id}"
        self.audit.record(now, actor, "city", "city_assign_review", target, f"sample {sample_id} → {inspector}")

    def assign_evenly(self, week: str, inspectors: list[str], actor: str, now: datetime) -> dict[int, str]:
        """Give the week's unassigned samples to the inspectors in turn (ticket order: no one picks)."""
        if not inspectors:
            raise ReviewError(N_("请指定抽检人员"))
        open_ = [s for s in self.samples(week) if s.inspector is None]
        given = {}
        for n, sample in enumerate(sorted(open_, key=lambda s: (s.ticket, s.course, s.attempt))):
            given[sample.id] = inspectors[n % len(inspectors)]
            self.assign(sample.id, given[sample.id], actor, now)
        return given

    def record_outcome(self, sample_id: int, inspector: str, outcome: str, notes: str, now: datetime) -> None:
        """The assigned inspector's finding; 存疑 and 判定有误 need notes saying why."""
        if outcome not in OUTCOMES:
            raise ReviewError(N_("抽检结论只能是一致、存疑或判定有误"))
        notes = notes.strip()
        if outcome != "consistent" and not notes:
            raise ReviewError(N_("结论为存疑或判定有误时须写明理由"))
        with self.sessions.begin() as session:
            sample = self._sample(session, sample_id)
            assigned = self._inspector(session, sample_id)
            if assigned != inspector:
                raise ReviewError(N_("抽检 %(id)s 未分派给 %(inspector)s"), id=sample_id, inspector=inspector)
            if self._outcome(session, sample_id) is not None:
                raise ReviewError(N_("抽检 %(id)s 已有结论"), id=sample_id)
            session.add(CityReviewOutcome(sample_id=sample_id, inspector=inspector, outcome=outcome, notes=notes,
                                          utc=now))
            target = f"{sample.course_code}/{sample.attempt_id}"
        self.audit.record(now, inspector, "city", "city_review_outcome", target,
                          json.dumps({"sample": sample_id, "outcome": outcome, "notes": notes}, ensure_ascii=False))

    def samples(self, week: str, inspector: str | None = None) -> list[SampleView]:
        """The week's sampled attempts (key order), with their latest assignment and outcome."""
        with self.sessions() as session:
            draw = self._draw(session, week)
            rows = session.scalars(select(CitySample).where(CitySample.draw_id == draw.id)
                                   .order_by(CitySample.course_code, CitySample.attempt_id)).all()
            views = []
            for row in rows:
                outcome = self._outcome(session, row.id)
                views.append(SampleView(row.id, row.course_code, row.attempt_id, tuple(row.reasons), row.ticket,
                                        self._inspector(session, row.id), outcome.outcome if outcome else None,
                                        outcome.notes if outcome else ""))
        return [v for v in views if inspector is None or v.inspector == inspector]

    def weeks(self) -> list[dict]:
        """Every week committed, newest first, with what has been done of it (the console's list)."""
        with self.sessions() as session:
            draws = session.scalars(select(CityDraw).order_by(CityDraw.week.desc())).all()
            counts = dict(session.execute(select(CitySample.draw_id, func.count()).group_by(CitySample.draw_id)).all())
            assigned = dict(session.execute(
                select(CitySample.draw_id, func.count(func.distinct(CityAssignment.sample_id)))
                .join(CityAssignment, CityAssignment.sample_id == CitySample.id).group_by(CitySample.draw_id)).all())
            return [{"week": d.week, "starts": d.starts_utc, "ends": d.ends_utc, "commitment": d.commitment,
                     "committed": d.committed_utc, "revealed": d.revealed_utc, "held": d.seed is None,
                     "sampled": counts.get(d.id, 0), "assigned": assigned.get(d.id, 0)} for d in draws]

    # -- lookups ------------------------------------------------------------------
    @staticmethod
    def _draw(session: Session, week: str) -> CityDraw:
        draw = session.scalar(select(CityDraw).where(CityDraw.week == week))
        if draw is None:
            raise ReviewError(N_("%(week)s 没有承诺过抽检种子"), week=week)
        return draw

    @staticmethod
    def _sample(session: Session, sample_id: int) -> CitySample:
        sample = session.get(CitySample, sample_id)
        if sample is None:
            raise ReviewError(N_("没有抽检 %(id)s"), id=sample_id)
        return sample

    @staticmethod
    def _inspector(session: Session, sample_id: int) -> str | None:
        return session.scalar(select(CityAssignment.inspector).where(CityAssignment.sample_id == sample_id)
                              .order_by(CityAssignment.id.desc()).limit(1))

    @staticmethod
    def _outcome(session: Session, sample_id: int) -> CityReviewOutcome | None:
        return session.scalar(select(CityReviewOutcome).where(CityReviewOutcome.sample_id == sample_id)
                              .order_by(CityReviewOutcome.id.desc()).limit(1))


def outcome_counts(engine: Engine, week: str) -> dict[str, int]:
    """How the week's reviews came out so far: outcome → count (the unreviewed under "")."""
    with session_factory(engine, None)() as session:
        draw = session.scalar(select(CityDraw.id).where(CityDraw.week == week))
        rows = session.execute(
            select(CityReviewOutcome.outcome, func.count()).join(CitySample, CitySample.id == CityReviewOutcome.sample_id)
            .where(CitySample.draw_id == draw).group_by(CityReviewOutcome.outcome)).all()
        total = session.scalar(select(func.count()).select_from(CitySample).where(CitySample.draw_id == draw))
    counts = dict(rows)
    counts[""] = total - sum(counts.values())
    return counts
