"""The city's warnings (预警), computed over every course's records, each with its numbers and attempts.

Every function here reads the city database (a session of ``session_factory(engine, None)``) and
returns :class:`CityWarning` records; none writes (except :func:`note_heads`, which keeps the
seal-chain heads the city has seen). The thresholds are the ``[warnings]`` settings of the city
file. docs/city-warnings.md states each check, its test and its source.

- ``rate``: a course's or an examiner's pass rate, manual-fail rate, device-fault rate or override
  rate far from the rest of the city (exact two-sided binomial test, ``rate_test``; a minimum
  sample, a significance level and a minimum difference);
- ``journal_gap``: an attempt whose journal misses rows or goes silent longer than allowed;
- ``video_gap``: an attempt whose fetched video leaves part of it uncovered (``evidence``);
- ``same_id_two_courses``: one ID number examined at two courses on one day (China time);
- ``retest_rules``: more tries in a sitting than allowed, a booking too soon after a failed
  sitting, more bookings within the validity period than allowed;
- ``seal_chain``: what the city's continuous verification (``verification``) found and stored: a
  seal chain that does not link, a head that went backwards (a seal the city verified is gone or
  replaced, a head it saw is no longer reached), records that do not match their seals; and a
  course whose key the city has not registered. Read from the stored results, never verified on
  the request.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from examroom.city import attempt_classes
from examroom.city.rate_test import binomial_two_sided
from examroom.city.verification import SEALS
from examroom.city.watch_settings import WarningSettings
from examroom.courseclock import CHINA, as_utc
from examroom.messages import N_
from examroom.records.models import (
    Attempt, AttemptStatus, Booking, Candidate, CityCourseKey, CitySeenHead, CityVerifyResult, JournalEntry, Seal,
    Sitting,
)
from examroom.records.people import mask_id_number
from examroom.records.sealing import chain_heads

AttemptKey = tuple[str, int]  # (course, attempt id): an attempt's global key


@dataclass(frozen=True)
class CityWarning:
    kind: str
    subject: str  # "4201001", "4201001/考试员甲", a masked ID number
    msgid: str  # Chinese, marked N_; params fill it
    params: dict
    numbers: dict  # the figures behind the warning
    attempts: tuple[AttemptKey, ...] = field(default=())

    def __str__(self) -> str:
        return self.msgid % self.params


# -- rates ------------------------------------------------------------------------------------

# One message per rate, so each reads whole in every language.
RATE_MESSAGES = {
    "pass": N_("%(subject)s 的合格率为 %(rate)s（%(k)s/%(n)s），全市其余为 %(rest)s（%(rest_k)s/%(rest_n)s），"
               "精确二项检验 p = %(p)s"),
    "manual_fail": N_("%(subject)s 的人工判不合格率为 %(rate)s（%(k)s/%(n)s），全市其余为 %(rest)s"
                      "（%(rest_k)s/%(rest_n)s），精确二项检验 p = %(p)s"),
    "device_fault": N_("%(subject)s 的设备故障率为 %(rate)s（%(k)s/%(n)s），全市其余为 %(rest)s（%(rest_k)s/%(rest_n)s），"
                       "精确二项检验 p = %(p)s"),
    "override": N_("%(subject)s 在自检未通过而放行时考试的比例为 %(rate)s（%(k)s/%(n)s），全市其余为 %(rest)s"
                   "（%(rest_k)s/%(rest_n)s），精确二项检验 p = %(p)s"),
}
JUDGED = (AttemptStatus.PASSED.value, AttemptStatus.FAILED.value)


def _attempt_facts(sessions: sessionmaker[Session], start: datetime, end: datetime) -> list[dict]:
    """Each finished attempt of the window: its key, examiner, and which rate numerators it is in."""
    facts = []
    with sessions() as session:
        by_course = attempt_classes.finished_attempts(session, start, end)
        rows = {(r.course_key, r.id): r for r in session.execute(
            select(Attempt.course_key, Attempt.id, Attempt.status, Attempt.passed, Attempt.examiner)
            .where(Attempt.checked_in_utc >= start, Attempt.checked_in_utc < end))}
        for course, ids in by_course.items():
            manual = attempt_classes.manual_fails(session, course, ids)
            faults = attempt_classes.device_faults(session, course, ids)
            overrides = attempt_classes.overridden(session, course, ids)
            for attempt_id in ids:
                row = rows[(course, attempt_id)]
                facts.append({"key": (course, attempt_id), "examiner": row.examiner, "judged": row.status in JUDGED,
                              "pass": bool(row.passed), "manual_fail": attempt_id in manual,
                              "device_fault": attempt_id in faults, "override": attempt_id in overrides})
    return facts


def _rate_warning(metric: str, unit: str, subject: str, mine: list[dict], all_: list[dict],
                  settings: WarningSettings) -> CityWarning | None:
    # The pass rate is over judged attempts; the other rates over every finished attempt.
    base = (lambda f: f["judged"]) if metric == "pass" else (lambda f: True)
    mine = [f for f in mine if base(f)]
    n, k = len(mine), sum(1 for f in mine if f[metric])
    city_n = sum(1 for f in all_ if base(f)) - n
    city_k = sum(1 for f in all_ if base(f) and f[metric]) - k
    if n < settings.min_attempts or city_n <= 0:
        return None
    rate, p0 = k / n, city_k / city_n
    p_value = binomial_two_sided(k, n, p0)
    if p_value >= settings.alpha or abs(rate - p0) < settings.min_difference:
        return None
    # The attempts behind it: those on the over-represented side (a low pass rate: its failures).
    behind = tuple(sorted(f["key"] for f in mine if f[metric] == (rate > p0)))
    numbers = {"metric": metric, "unit": unit, "k": k, "n": n, "rate": round(rate, 4), "rest_k": city_k,
               "rest_n": city_n, "rest_rate": round(p0, 4), "test": settings.test, "p_value": p_value,
               "alpha": settings.alpha, "min_attempts": settings.min_attempts,
               "min_difference": settings.min_difference}
    return CityWarning("rate", subject, RATE_MESSAGES[metric],
                       {"subject": subject, "rate": f"{rate:.1%}", "k": k, "n": n,
                        "rest": f"{p0:.1%}", "rest_k": city_k, "rest_n": city_n, "p": f"{p_value:.2g}"},
                       numbers, behind)


def rate_warnings(sessions: sessionmaker[Session], start: datetime, end: datetime,
                  settings: WarningSettings) -> list[CityWarning]:
    """Courses and examiners whose rates are far from the rest of the city's in [start, end)."""
    facts = _attempt_facts(sessions, start, end)
    units: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for f in facts:
        units[("course", f["key"][0])].append(f)
        if f["examiner"]:
            units[("examiner", f"{f['key'][0]}/{f['examiner']}")].append(f)
    found = []
    for (unit, subject), mine in sorted(units.items()):
        metrics = ("pass", "manual_fail") if unit == "examiner" else ("pass", "manual_fail", "device_fault", "override")
        for metric in metrics:
            warning = _rate_warning(metric, unit, subject, mine, facts, settings)
            if warning is not None:
                found.append(warning)
    return found


# -- gaps -------------------------------------------------------------------------------------

def journal_gaps(sessions: sessionmaker[Session], start: datetime, end: datetime,
                 settings: WarningSettings) -> list[CityWarning]:
    """Attempts whose journal has missing rows (a hole in seq) or a silence longer than allowed."""
    window = (JournalEntry.course_key, JournalEntry.attempt_id)
    lagged = (select(JournalEntry.course_key, JournalEntry.attempt_id, JournalEntry.seq, JournalEntry.t,
                     func.lag(JournalEntry.seq).over(partition_by=window, order_by=JournalEntry.seq).label("prev_seq"),
                     func.lag(JournalEntry.t).over(partition_by=window, order_by=JournalEntry.seq).label("prev_t"))
              .join(Attempt, (Attempt.course_key == JournalEntry.course_key) & (Attempt.id == JournalEntry.attempt_id))
              .where(Attempt.checked_in_utc >= start, Attempt.checked_in_utc < end,
                     Attempt.status.in_(attempt_classes.FINAL))
              .subquery())
    query = (select(lagged.c.course_key, lagged.c.attempt_id, lagged.c.seq, lagged.c.prev_seq, lagged.c.t,
                    lagged.c.prev_t)
             .where((lagged.c.seq - lagged.c.prev_seq != 1)
                    | (lagged.c.t - lagged.c.prev_t > settings.max_journal_gap_seconds)
                    | (lagged.c.prev_seq.is_(None) & (lagged.c.seq != 1)))  # its first rows missing
             .order_by(lagged.c.course_key, lagged.c.attempt_id, lagged.c.seq))
    holes: dict[AttemptKey, dict] = {}
    with sessions() as session:
        for course, attempt_id, seq, prev_seq, t, prev_t in session.execute(query):
            found = holes.setdefault((course, attempt_id), {"missing_rows": 0, "longest_silence_s": 0.0, "at_seq": []})
            found["missing_rows"] += max(0, seq - (prev_seq or 0) - 1)
            if prev_t is not None:
                found["longest_silence_s"] = round(max(found["longest_silence_s"], t - prev_t), 3)
            found["at_seq"].append(seq)
    return [CityWarning("journal_gap", f"{course}/{attempt_id}",
                        N_("考试 %(attempt)s 的过程记录有缺口：缺 %(missing)s 行，最长间断 %(silence)s 秒"),
                        {"attempt": f"{course}/{attempt_id}", "missing": gap["missing_rows"],
                         "silence": gap["longest_silence_s"]},
                        {**gap, "max_gap_s": settings.max_journal_gap_seconds}, ((course, attempt_id),))
            for (course, attempt_id), gap in sorted(holes.items())]


def video_gaps(cache_dir: Path, start: datetime, end: datetime, settings: WarningSettings) -> list[CityWarning]:
    """Attempts whose video, as fetched into the city's evidence cache, leaves parts uncovered.

    Video stays at the courses (docs/city.md): the city knows it only for the attempts whose
    evidence it fetched (``examroom.city.evidence``). The window is the attempts' check-in time.
    """
    from examroom.city.evidence import cached_manifests  # evidence imports this module's peers only

    found = []
    for manifest in cached_manifests(cache_dir):
        checked_in = datetime.fromisoformat(manifest["checked_in_utc"])
        if not start <= checked_in < end:
            continue
        gaps = [g for g in manifest.get("video_gaps", []) if g["seconds"] > settings.max_journal_gap_seconds]
        if gaps:
            key = (manifest["course"], manifest["attempt"])
            found.append(CityWarning("video_gap", f"{key[0]}/{key[1]}",
                                     N_("考试 %(attempt)s 的录像有缺口：%(count)s 处，最长 %(seconds)s 秒"),
                                     {"attempt": f"{key[0]}/{key[1]}", "count": len(gaps),
                                      "seconds": max(g["seconds"] for g in gaps)},
                                     {"gaps": gaps, "max_gap_s": settings.max_journal_gap_seconds}, (key,)))
    return sorted(found, key=lambda w: w.attempts)


# -- people -----------------------------------------------------------------------------------

def _examined(session: Session, start: datetime | None, end: datetime) -> list:
    query = (select(Attempt.course_key, Attempt.id, Attempt.checked_in_utc, Attempt.booking_id, Attempt.attempt_no,
                    Attempt.status, Candidate.id_number)
             .join(Candidate, (Candidate.course_key == Attempt.course_key) & (Candidate.id == Attempt.candidate_id))
             .where(Attempt.checked_in_utc < end))
    if start is not None:
        query = query.where(Attempt.checked_in_utc >= start)
    return session.execute(query.order_by(Attempt.course_key, Attempt.id)).all()


def same_id_two_courses(sessions: sessionmaker[Session], start: datetime, end: datetime) -> list[CityWarning]:
    """One ID number examined at two or more courses on one day (China time)."""
    seen: dict[tuple[str, object], list] = defaultdict(list)
    with sessions() as session:
        for row in _examined(session, start, end):
            seen[(row.id_number.upper(), as_utc(row.checked_in_utc).astimezone(CHINA).date())].append(row)
    found = []
    for (id_number, day), rows in sorted(seen.items(), key=lambda item: (item[0][1], item[0][0])):
        courses = sorted({r.course_key for r in rows})
        if len(courses) < 2:
            continue
        masked = mask_id_number(id_number)
        found.append(CityWarning("same_id_two_courses", masked,
                                 N_("身份证明号码 %(id)s 于 %(day)s 在 %(count)s 个考场参加考试：%(courses)s"),
                                 {"id": masked, "day": day.isoformat(), "count": len(courses),
                                  "courses": "、".join(courses)},
                                 {"day": day.isoformat(), "courses": courses, "attempts": len(rows)},
                                 tuple((r.course_key, r.id) for r in rows)))
    return found


def retest_warnings(sessions: sessionmaker[Session], start: datetime, end: datetime,
                    settings: WarningSettings) -> list[CityWarning]:
    """Re-examinations outside the rules, for bookings whose sitting starts in [start, end).

    The rules (domain research §1.2): one 补考 in the same sitting (``tries_per_sitting`` tries;
    re-runs after a device fault keep their try number); after a failed sitting, booked again only
    ``rebook_after_days`` later; at most ``bookings_per_validity`` bookings within
    ``validity_days``. Bookings are matched across courses by ID number.
    """
    found = []
    with sessions() as session:
        bookings = session.execute(
            select(Booking.course_key, Booking.id, Booking.outcome, Booking.vehicle_class, Sitting.starts_utc,
                   Candidate.id_number)
            .join(Sitting, (Sitting.course_key == Booking.course_key) & (Sitting.id == Booking.sitting_id))
            .join(Candidate, (Candidate.course_key == Booking.course_key) & (Candidate.id == Booking.candidate_id))
            .where(Sitting.starts_utc < end)).all()
        tries = defaultdict(set)
        attempts_of = defaultdict(list)
        for row in session.execute(select(Attempt.course_key, Attempt.booking_id, Attempt.id, Attempt.attempt_no)
                                   .where(Attempt.booking_id.is_not(None))):
            tries[(row.course_key, row.booking_id)].add(row.attempt_no)
            attempts_of[(row.course_key, row.booking_id)].append((row.course_key, row.id))
    in_window = [b for b in bookings if start <= as_utc(b.starts_utc) < end]
    for b in in_window:
        used = sorted(n for n in tries[(b.course_key, b.id)] if n is not None)
        if used and (len(used) > settings.tries_per_sitting or used[-1] > settings.tries_per_sitting):
            found.append(CityWarning(
                "retest_rules", mask_id_number(b.id_number),
                N_("考场 %(course)s 预约 %(booking)s 在同一场次考了 %(tries)s 次（规定至多 %(limit)s 次）"),
                {"course": b.course_key, "booking": b.id, "tries": len(used), "limit": settings.tries_per_sitting},
                {"rule": "tries_per_sitting", "tries": used, "limit": settings.tries_per_sitting},
                tuple(sorted(attempts_of[(b.course_key, b.id)]))))
    by_person = defaultdict(list)
    for b in bookings:
        by_person[b.id_number.upper()].append(b)
    for b in in_window:
        mine = sorted(by_person[b.id_number.upper()], key=lambda x: as_utc(x.starts_utc))
        day = as_utc(b.starts_utc).astimezone(CHINA).date()
        for earlier in mine:
            earlier_day = as_utc(earlier.starts_utc).astimezone(CHINA).date()
            if (earlier.outcome == "failed" and earlier_day < day
                    and (day - earlier_day).days < settings.rebook_after_days):
                found.append(CityWarning(
                    "retest_rules", mask_id_number(b.id_number),
                    N_("%(id)s 于 %(earlier)s 考试不合格，%(days)s 天后即在考场 %(course)s 再次考试（规定 %(limit)s 天后才能预约）"),
                    {"id": mask_id_number(b.id_number), "earlier": earlier_day.isoformat(),
                     "days": (day - earlier_day).days, "course": b.course_key, "limit": settings.rebook_after_days},
                    {"rule": "rebook_after_days", "failed_booking": [earlier.course_key, earlier.id],
                     "booking": [b.course_key, b.id], "days": (day - earlier_day).days,
                     "limit": settings.rebook_after_days},
                    tuple(sorted(attempts_of[(earlier.course_key, earlier.id)] + attempts_of[(b.course_key, b.id)]))))
        since = as_utc(b.starts_utc) - timedelta(days=settings.validity_days)
        within = [x for x in mine if since < as_utc(x.starts_utc) <= as_utc(b.starts_utc)
                  and x.vehicle_class == b.vehicle_class]
        if len(within) > settings.bookings_per_validity:
            found.append(CityWarning(
                "retest_rules", mask_id_number(b.id_number),
                N_("%(id)s 在有效期内已预约科目二 %(count)s 次（规定至多 %(limit)s 次）"),
                {"id": mask_id_number(b.id_number), "count": len(within), "limit": settings.bookings_per_validity},
                {"rule": "bookings_per_validity", "bookings": [[x.course_key, x.id] for x in within],
                 "limit": settings.bookings_per_validity, "validity_days": settings.validity_days},
                tuple(sorted(k for x in within for k in attempts_of[(x.course_key, x.id)]))))
    return found


# -- seal chains ------------------------------------------------------------------------------

def note_heads(sessions: sessionmaker[Session], now: datetime) -> int:
    """Keep each course's seal-chain heads as seen now (only those not seen before); returns rows added."""
    added = 0
    with sessions.begin() as session:
        courses = session.scalars(select(Seal.course_key).distinct()).all()
        for course in courses:
            for chain, head in chain_heads(session, course_key=course).items():
                known = session.scalar(select(CitySeenHead.id).where(
                    CitySeenHead.course_code == course, CitySeenHead.chain == chain,
                    CitySeenHead.digest == head["digest"]))
                if known is None:
                    session.add(CitySeenHead(course_code=course, chain=chain, seq=head["seq"],
                                             digest=head["digest"], seen_utc=now))
                    added += 1
    return added


SEAL_LINK = N_("考场 %(course)s 的封存链断开：%(count)s 处")
SEAL_HEAD = N_("考场 %(course)s 的封存链与城市此前所见的链头不符（链头倒退，或链头之前的封存缺失）：%(detail)s")
SEAL_RECORD = N_("考场 %(course)s 有 %(count)s 场考试的记录与其封存不符（签名、考试记录或过程记录）")
SEAL_EVIDENCE = N_("考场 %(course)s 有 %(count)s 场考试的录像封存核验不符（录像封存或录像删除凭证被改动、删除或伪造）")
SEAL_NO_KEY = N_("考场 %(course)s 的公钥未在城市中心登记：它的 %(count)s 个封存无法核验")


def seal_chain_warnings(sessions: sessionmaker[Session], start: datetime, end: datetime) -> list[CityWarning]:
    """What the city's verification found (``city/verification.py``), read from its stored results.

    Nothing is verified here: the pass that runs where the records arrive (``examroom city
    watch``) stored each problem with the attempts behind it. A problem found stays a warning
    whatever the window (records are append-only: a break is permanent evidence), so ``start``
    and ``end`` do not limit these. Per course: seals that do not link, a head that went
    backwards (a verified seal gone or replaced, a seen head no longer reached), records that do
    not match their seals; the attempts whose video statement (evidence seal) or video deletion
    (evidence release) does not verify, or went or changed after the city verified it; and a
    course whose seals the city cannot verify, for want of its key.
    """
    found = []
    with sessions() as session:
        results = session.execute(select(CityVerifyResult.course_code, CityVerifyResult.chain, CityVerifyResult.kind,
                                         CityVerifyResult.problems, CityVerifyResult.finished_utc)
                                  .where(CityVerifyResult.ok.is_(False))
                                  .order_by(CityVerifyResult.course_code, CityVerifyResult.id)).all()
        keyed = set(session.scalars(select(CityCourseKey.course_code).distinct()))
        # The courses that seal, one index probe each (a skip scan: a year's seals are a million rows),
        # and how many seals those without a key hold.
        sealing = session.scalars(text(
            "WITH RECURSIVE c(k) AS (SELECT min(course_key) FROM seals UNION ALL "
            "SELECT (SELECT min(course_key) FROM seals WHERE course_key > c.k) FROM c WHERE c.k IS NOT NULL) "
            "SELECT k FROM c WHERE k IS NOT NULL")).all()
        sealed = {course: session.scalar(select(func.count()).select_from(Seal).where(Seal.course_key == course))
                  for course in sealing if course not in keyed}
    by_course: dict[str, list[dict]] = defaultdict(list)
    for course, chain, kind, problems, finished in results:
        for problem in problems:
            by_course[course].append({**problem, "chain": chain, "kind": kind,
                                      "found_utc": as_utc(finished).isoformat()})

    def attempts_of(course: str, problems: list[dict]) -> tuple[AttemptKey, ...]:
        return tuple(sorted({(course, p["attempt"]) for p in problems if p["attempt"] is not None}))

    def shown(p: dict) -> str:
        who = "records" if p["attempt"] is None else f"attempt {p['attempt']}"
        return f"{who}: {p['where']}: {p['message']}"

    for course in sorted(set(by_course) | {c for c in sealed if c not in keyed}):
        problems = by_course.get(course, [])
        # The video's: found by the evidence walk, or by the seal walk's check of an attempt whose
        # evidence seal was already there ("evidence …", and "video <camera> <file>" for its files).
        video = [p for p in problems if p["kind"] != SEALS or p["where"].startswith(("evidence", "video "))]
        problems = [p for p in problems if p not in video]
        links = [p for p in problems if p["where"] == "seal chain"]
        heads = [p for p in problems if p["where"] == "seal chain head"]
        records = [p for p in problems if p["where"] not in ("seal chain", "seal chain head")]
        if links:
            found.append(CityWarning("seal_chain", course, SEAL_LINK, {"course": course, "count": len(links)},
                                     {"problems": [shown(p) for p in links], "found": links},
                                     attempts_of(course, links)))
        if heads:
            found.append(CityWarning("seal_chain", course, SEAL_HEAD,
                                     {"course": course, "detail": "；".join(p["message"] for p in heads)},
                                     {"problems": [shown(p) for p in heads], "found": heads},
                                     attempts_of(course, heads)))
        if records:
            behind = attempts_of(course, records)
            found.append(CityWarning("seal_chain", course, SEAL_RECORD, {"course": course, "count": len(behind)},
                                     {"problems": [shown(p) for p in records], "found": records}, behind))
        if video:
            behind = attempts_of(course, video)
            found.append(CityWarning("seal_chain", course, SEAL_EVIDENCE, {"course": course, "count": len(behind)},
                                     {"problems": [shown(p) for p in video], "found": video}, behind))
        if course not in keyed and sealed.get(course):
            found.append(CityWarning("seal_chain", course, SEAL_NO_KEY, {"course": course, "count": sealed[course]},
                                     {"seals": sealed[course]}, ()))
    return found


def all_warnings(sessions: sessionmaker[Session], start: datetime, end: datetime, settings: WarningSettings,
                 evidence_cache: Path | None = None) -> list[CityWarning]:
    """Every warning of the window [start, end), in the order of the module's list."""
    found = rate_warnings(sessions, start, end, settings) + journal_gaps(sessions, start, end, settings)
    if evidence_cache is not None:
        found += video_gaps(evidence_cache, start, end, settings)
    found += same_id_two_courses(sessions, start, end) + retest_warnings(sessions, start, end, settings)
    return found + seal_chain_warnings(sessions, start, end)
