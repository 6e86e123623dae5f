"""The city verifies every course's replicated records as they arrive, and keeps what it found.

Each course's seals are verified against the public keys the city registered for the course
(``register_key``, ``examroom city key``; never the ``seal_keys`` rows the course's own database
sends), one seal chain at a time and **incrementally**: the city remembers every seal it checked
(``city_verified_seals``: course, chain, number, attempt, the seal's digest then), so a pass checks
only the seals numbered above the last one verified, and the first of them must link to it. A
seal is checked as ``examroom verify`` checks it (``records.verify.verify_attempt``: the journal's
hash chain up to the sealed head, the Ed25519 signature, the stored record against the sealed
one, the link to the seal before it).

Before the new seals, each pass checks that what it verified is still there as it was: the last
verified seal of the chain still has its digest, no seal up to it is missing (a count, then the
missing ones by name), and no head the city saw (``city_seen_heads``) is above the chain's end
now. A seal gone or replaced is a head that went backwards; the attempts behind it are known from
``city_verified_seals`` even when their rows are gone.

Each pass writes one ``city_verify_results`` row per chain and batch of seals checked (the seal
numbers, how many, the problems with their attempt ids, when), and one for problems found with
no new seal; a quiet pass writes nothing. A problem already stored for the chain is not stored
again: records are append-only, a problem once found stays found (the warnings read these rows,
``warnings.seal_chain_warnings``). The new head is noted in ``city_seen_heads``.

After a course's seal chains, its evidence (``_verify_evidence``): the evidence seals, one chain
a course, arrive minutes after their attempts' seals and are walked the same way from the last
one verified (``city_verified_evidence``, migration 0018): each checked by itself against the
registered key (``evidence_seals.check_statement``), its link to the evidence seal before as the
city verified it, and the attempt seal it names against the digest in ``city_verified_seals`` (one
whose attempt's seal is not verified yet waits for a later pass); no video file is read. Then the
evidence releases not checked yet (``evidence_seals.check_release``; ``city_verified_releases``),
and that those checked are still there. Their results are ``city_verify_results`` rows of kind
``evidence`` and ``releases`` (the seal chains' are ``seals``), each problem with its attempt.

A course still being copied (its subscription's initial copy not done: seals can arrive before
their journals then) is left for a later pass, and so is a course with no key registered. One
pass runs at a time in a city database, and none while a course is re-synced (a PostgreSQL
advisory lock, ``replication.CITY_RECORDS_LOCK``; a pass that finds it held returns at once). ``VerificationLoop`` runs passes every ``[verification] every_seconds`` of the city file
in a thread (``examroom city watch``, ``examroom demo --city``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from cryptography.hazmat.primitives import serialization
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from examroom.accounts.audit import AuditLog
from examroom.city.errors import CityError
from examroom.city.replication import CITY_RECORDS_LOCK, sync_state
from examroom.messages import N_
from examroom.records.database import session_factory
from examroom.records.evidence_seals import check_release, check_statement, evidence_digest, release_digest
from examroom.records.models import (
    Attempt, CityCourseKey, CitySeenHead, CityVerifiedEvidence, CityVerifiedRelease, CityVerifiedSeal,
    CityVerifyResult, EvidenceRelease, EvidenceSeal, Seal,
)
from examroom.records.sealing import GENESIS_SEAL, chain_heads, key_id, load_public_key, seal_digest
from examroom.records.verify import Problem, verify_attempt

log = logging.getLogger(__name__)

PASS_LOCK = CITY_RECORDS_LOCK  # one pass at a time in a city database, and none during a re-sync
BATCH = 250  # seals verified and stored per transaction: a pass stopped midway resumes after the last batch
KEYS_WHERE = "registered at the city for this course"
HEAD = "seal chain head"
# The evidence walk's results in city_verify_results: told from the seal chains' by their kind
# (a seal chain is named after the course layout, any string); the chain names are labels.
EVIDENCE_CHAIN = "video evidence"
RELEASES_CHAIN = "video evidence releases"
SEALS, EVIDENCE, RELEASES = "seals", "evidence", "releases"
EVIDENCE_HEAD = "evidence chain head"
RELEASE = "evidence release"


# -- keys -------------------------------------------------------------------------------------

def fingerprint(pem: str) -> str:
    """The sha256 of the raw Ed25519 public key, hex (the key id is its first 32 characters)."""
    raw = load_public_key(pem).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def register_key(engine: Engine, city_code: str, course: str, pem: str, by: str, now: datetime) -> CityCourseKey:
    """Keep ``pem`` as one of ``course``'s seal keys at the city; the fingerprint goes to the city's audit log.

    A key already registered for the course is refused (CityError), so the log names each once.
    """
    try:
        key = load_public_key(pem)
    except ValueError as exc:
        raise CityError(N_("公钥文件不是 Ed25519 公钥：%(error)s"), error=str(exc)) from None
    found = key_id(key)
    digest = fingerprint(pem)
    sessions = session_factory(engine, None)
    with sessions.begin() as session:
        if session.scalar(select(CityCourseKey.id).where(CityCourseKey.course_code == course,
                                                        CityCourseKey.key_id == found)) is not None:
            raise CityError(N_("考场 %(course)s 的公钥 %(key)s 已登记过。"), course=course, key=found)
        row = CityCourseKey(course_code=course, key_id=found, fingerprint=digest, public_pem=pem.strip() + "\n",
                            registered_by=by, registered_utc=now)
        session.add(row)
        session.flush()
        session.expunge(row)
    AuditLog(session_factory(engine, city_code)).record(
        now, by, "admin", "city_course_key", course, f"key {found} sha256 {digest}")
    return row


def ensure_key(engine: Engine, city_code: str, course: str, pem: str, by: str, now: datetime) -> bool:
    """``register_key`` unless this key is already the course's at the city; True when it was registered now."""
    with session_factory(engine, None)() as session:
        if key_id(load_public_key(pem)) in course_keys(session, course):
            return False
    register_key(engine, city_code, course, pem, by, now)
    return True


def course_keys(session: Session, course: str) -> dict[str, str]:
    """The course's keys the city registered: key id -> PEM."""
    return dict(session.execute(select(CityCourseKey.key_id, CityCourseKey.public_pem)
                                .where(CityCourseKey.course_code == course)).all())


# -- the pass ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainResult:
    """What one pass did on one course's chain."""

    course: str
    chain: str
    checked: int  # seals verified in this pass
    from_seq: int | None
    to_seq: int | None
    problems: tuple[dict, ...]  # new problems, as stored
    kind: str = SEALS  # SEALS, EVIDENCE (the evidence seals) or RELEASES (the evidence releases)

    @property
    def attempts(self) -> tuple[int, ...]:
        return tuple(sorted({p["attempt"] for p in self.problems if p["attempt"] is not None}))


@dataclass
class PassSummary:
    started: datetime
    ran: bool = True  # False: another pass held the lock, nothing was done
    chains: list[ChainResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # course -> why ("no key", "copying")

    @property
    def checked(self) -> int:
        """Seals verified (the evidence seals and releases are counted apart)."""
        return sum(c.checked for c in self.chains if c.kind == SEALS)

    @property
    def evidence_checked(self) -> int:
        return sum(c.checked for c in self.chains if c.kind == EVIDENCE)

    @property
    def releases_checked(self) -> int:
        return sum(c.checked for c in self.chains if c.kind == RELEASES)

    @property
    def problems(self) -> int:
        return sum(len(c.problems) for c in self.chains)

    def line(self) -> str:
        """One line for the log and the command line."""
        if not self.ran:
            return "another verification pass is running: skipped"
        parts = [f"{self.checked} seal(s) verified"]
        if self.evidence_checked or self.releases_checked:
            parts.append(f"{self.evidence_checked} evidence seal(s) and {self.releases_checked} evidence "
                         "release(s) verified")
        parts.append(f"{self.problems} new problem(s)")
        parts += [f"{course}: {why}" for course, why in sorted(self.skipped.items())]
        return "; ".join(parts)


def _problem(problem: Problem) -> dict:
    return {"attempt": problem.attempt, "where": problem.where, "message": problem.message}


def verify_pass(engine: Engine, now: Callable[[], datetime], courses: list[str] | None = None,
                limit: int | None = None) -> PassSummary:
    """Verify every course's seals that arrived since the last pass.

    ``courses``: only these; ``limit``: at most this many seals a chain (a city catching up on a
    long backlog keeps each pass short; the next pass goes on from there).
    """
    summary = PassSummary(started=now())
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as lock:
        if postgres and not lock.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PASS_LOCK}).scalar():
            summary.ran = False
            return summary
        try:
            _run(engine, now, courses, limit, summary)
        finally:
            if postgres:
                lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PASS_LOCK})
                lock.commit()
    log.info("city verification: %s", summary.line())
    return summary


def _copying(engine: Engine, course: str) -> bool:
    """The course's subscription has tables whose first copy is not done (no subscription: not copying)."""
    if engine.dialect.name != "postgresql":
        return False
    try:
        state = sync_state(engine, course)
    except CityError:  # a code no subscription can be named after: never subscribed, so not copying
        return False
    return state.tables > 0 and not state.done


def _run(engine: Engine, now: Callable[[], datetime], courses: list[str] | None, limit: int | None,
         summary: PassSummary) -> None:
    sessions = session_factory(engine, None)
    with sessions() as session:
        chains = session.execute(select(Seal.course_key, Seal.chain).distinct()
                                 .order_by(Seal.course_key, Seal.chain)).all()
        verified = session.execute(select(CityVerifiedSeal.course_code, CityVerifiedSeal.chain).distinct()).all()
    by_course: dict[str, set[str]] = {}
    for course, chain in [*chains, *verified]:  # a chain whose seals are all gone is still checked
        if courses is None or course in courses:
            by_course.setdefault(course, set()).add(chain)
    with sessions() as session:  # a course with evidence but no seal chain at the city (all gone) too
        evidenced = session.scalars(select(CityVerifiedEvidence.course_code).distinct()
                                    .union(select(EvidenceSeal.course_key).distinct())).all()
    for course in evidenced:
        if courses is None or course in courses:
            by_course.setdefault(course, set())
    for course, course_chains in sorted(by_course.items()):
        if _copying(engine, course):
            summary.skipped[course] = "copying"
            continue
        with sessions() as session:
            keys = course_keys(session, course)
        if not keys:
            summary.skipped[course] = "no key"
            continue
        for chain in sorted(course_chains):
            summary.chains.append(_verify_chain(sessions, course, chain, keys, now, limit))
        # After the seals: an evidence seal is checked against its attempt's seal as the city verified it.
        summary.chains += _verify_evidence(sessions, course, keys, now, limit)
        _note_heads(sessions, course, now())


def _verify_chain(sessions: sessionmaker[Session], course: str, chain: str, keys: dict[str, str],
                  now: Callable[[], datetime], limit: int | None) -> ChainResult:
    started = now()
    with sessions() as session:
        known = {(p["attempt"], p["where"], p["message"])
                 for problems in session.scalars(select(CityVerifyResult.problems).where(
                     CityVerifyResult.course_code == course, CityVerifyResult.kind == SEALS,
                     CityVerifyResult.chain == chain, CityVerifyResult.ok.is_(False)))
                 for p in problems}
        last = session.execute(select(CityVerifiedSeal.seq, CityVerifiedSeal.digest, CityVerifiedSeal.attempt_id)
                               .where(CityVerifiedSeal.course_code == course, CityVerifiedSeal.chain == chain)
                               .order_by(CityVerifiedSeal.seq.desc()).limit(1)).first()
        verified_to = last.seq if last else 0
        pending = [_problem(p) for p in _still_there(session, course, chain, last)]
        new = session.execute(select(Seal.seq, Seal.attempt_id).where(
            Seal.course_key == course, Seal.chain == chain, Seal.seq > verified_to).order_by(Seal.seq)
            .limit(limit)).all()
    pending = [p for p in pending if (p["attempt"], p["where"], p["message"]) not in known]
    stored: list[dict] = []
    checked, first, to = 0, None, None
    for start in range(0, len(new), BATCH):
        batch = new[start:start + BATCH]
        with sessions.begin() as session:
            found: list[dict] = list(pending)
            pending = []
            rows = []
            ids = [attempt_id for _seq, attempt_id in batch]
            # One query each for the batch's seals and attempts (verify_attempt finds them in the session).
            seals = {seal.attempt_id: seal for seal in session.scalars(select(Seal).where(
                Seal.course_key == course, Seal.attempt_id.in_(ids)))}
            attempts = {attempt.id: attempt for attempt in session.scalars(select(Attempt).where(
                Attempt.course_key == course, Attempt.id.in_(ids)))}
            for seq, attempt_id in batch:
                seal, attempt = seals.get(attempt_id), attempts.get(attempt_id)
                if seal is None:  # removed since the list was read: found by the next pass's count
                    continue
                if attempt is None:
                    mine = [Problem(attempt_id, "attempt", "the sealed attempt's row is not in the database")]
                else:
                    mine = verify_attempt(session, attempt, keys, KEYS_WHERE)
                mine_dicts = [p for p in map(_problem, mine) if (p["attempt"], p["where"], p["message"]) not in known]
                found += mine_dicts
                rows.append(CityVerifiedSeal(course_code=course, chain=chain, seq=seq, attempt_id=attempt_id,
                                             digest=seal_digest(seal), ok=not mine))
            result = _result(course, chain, batch[0][0], batch[-1][0], len(rows), found, started, now())
            session.add(result)
            session.flush()
            for row in rows:
                row.result_id = result.id
            session.add_all(rows)
        checked += len(rows)
        first = batch[0][0] if first is None else first
        to = batch[-1][0]
        stored += found
    if pending:  # problems found with no new seal to check
        with sessions.begin() as session:
            session.add(_result(course, chain, None, None, 0, pending, started, now()))
        stored += pending
    return ChainResult(course, chain, checked, first, to, tuple(stored))


def _result(course: str, chain: str, first: int | None, last: int | None, checked: int, problems: list[dict],
            started: datetime, finished: datetime, kind: str = SEALS) -> CityVerifyResult:
    return CityVerifyResult(course_code=course, kind=kind, chain=chain, from_seq=first, to_seq=last, checked=checked,
                            ok=not problems, problems=problems,
                            attempts=sorted({p["attempt"] for p in problems if p["attempt"] is not None}),
                            started_utc=started, finished_utc=finished)


def _still_there(session: Session, course: str, chain: str, last) -> list[Problem]:
    """What the city verified of this chain is still there as it was; heads it saw are not above the end."""
    problems = []
    end = session.scalar(select(func.max(Seal.seq)).where(Seal.course_key == course, Seal.chain == chain)) or 0
    if last is not None:
        anchor = session.scalar(select(Seal).where(Seal.course_key == course, Seal.chain == chain,
                                                   Seal.seq == last.seq))
        if anchor is not None and seal_digest(anchor) != last.digest:
            problems.append(Problem(last.attempt_id, HEAD,
                                    f"chain {chain!r}: seal {last.seq} (attempt {last.attempt_id}) is not the seal "
                                    "the city verified: it was replaced or edited"))
        present = session.scalar(select(func.count()).select_from(Seal).where(
            Seal.course_key == course, Seal.chain == chain, Seal.seq <= last.seq))
        if present < last.seq:  # some verified seals are gone: name them and their attempts
            gone = session.execute(
                select(CityVerifiedSeal.seq, CityVerifiedSeal.attempt_id)
                .outerjoin(Seal, (Seal.course_key == CityVerifiedSeal.course_code)
                           & (Seal.chain == CityVerifiedSeal.chain) & (Seal.seq == CityVerifiedSeal.seq))
                .where(CityVerifiedSeal.course_code == course, CityVerifiedSeal.chain == chain, Seal.seq.is_(None))
                .order_by(CityVerifiedSeal.seq)).all()
            for seq, attempt_id in gone:
                problems.append(Problem(attempt_id, HEAD, f"chain {chain!r}: seal {seq} (attempt {attempt_id}), "
                                                          "verified by the city, is gone: a sealed attempt was removed"))
            if not gone:  # seals the city never verified went away below the last it did
                problems.append(Problem(None, HEAD, f"chain {chain!r}: {last.seq - present} seal(s) up to seal "
                                                    f"{last.seq} are missing: sealed attempts were removed"))
    seen = session.execute(select(CitySeenHead.seq, CitySeenHead.digest).where(
        CitySeenHead.course_code == course, CitySeenHead.chain == chain,
        CitySeenHead.seq > max(end, last.seq if last else 0)).order_by(CitySeenHead.seq.desc()).limit(1)).first()
    if seen is not None:
        problems.append(Problem(None, HEAD, f"chain {chain!r}: the city saw seal {seen.seq} ({seen.digest[:16]}…) "
                                            "as its head, and the chain no longer reaches it"))
    return problems


# -- the evidence seals and releases ----------------------------------------------------------

def _verify_evidence(sessions: sessionmaker[Session], course: str, keys: dict[str, str],
                     now: Callable[[], datetime], limit: int | None) -> list[ChainResult]:
    """The course's evidence chain from the last evidence seal verified, and its new releases
    (a result only for what has any: a course without video evidence adds nothing)."""
    out = []
    with sessions() as session:
        def has(query) -> bool:
            return session.scalar(query.limit(1)) is not None

        # What the course sent, or what the city verified of it (all of it may be gone since).
        any_evidence = has(select(EvidenceSeal.seq).where(EvidenceSeal.course_key == course)) \
            or has(select(CityVerifiedEvidence.seq).where(CityVerifiedEvidence.course_code == course))
        any_release = has(select(EvidenceRelease.id).where(EvidenceRelease.course_key == course)) \
            or has(select(CityVerifiedRelease.release_id).where(CityVerifiedRelease.course_code == course))
    if any_evidence:
        out.append(_evidence_chain(sessions, course, keys, now, limit))
    if any_release:
        out.append(_releases(sessions, course, keys, now))
    return out


def _known(session: Session, course: str, kind: str) -> set[tuple]:
    """The problems already stored for the course's evidence (``kind``: EVIDENCE or RELEASES)."""
    return {(p["attempt"], p["where"], p["message"])
            for problems in session.scalars(select(CityVerifyResult.problems).where(
                CityVerifyResult.course_code == course, CityVerifyResult.kind == kind,
                CityVerifyResult.ok.is_(False)))
            for p in problems}


def _evidence_chain(sessions: sessionmaker[Session], course: str, keys: dict[str, str],
                    now: Callable[[], datetime], limit: int | None) -> ChainResult:
    """Verify the evidence seals numbered above the last one the city verified.

    Each: ``check_statement`` (signature against the registered key, the statement's kind, attempt
    and course), its number, its link to the evidence seal before as the city verified it, and the
    attempt seal it names against that seal's digest in ``city_verified_seals``. An evidence seal
    whose attempt's seal is at the city but not verified yet (a pass's ``limit``) waits, with the
    ones after it, for a later pass; no file is read (the video stays at the course)."""
    started = now()
    with sessions() as session:
        known = _known(session, course, EVIDENCE)
        last = session.execute(select(CityVerifiedEvidence.seq, CityVerifiedEvidence.digest,
                                      CityVerifiedEvidence.attempt_id)
                               .where(CityVerifiedEvidence.course_code == course)
                               .order_by(CityVerifiedEvidence.seq.desc()).limit(1)).first()
        verified_to = last.seq if last else 0
        pending = [_problem(p) for p in _evidence_still_there(session, course, last)]
        new = session.execute(select(EvidenceSeal.seq, EvidenceSeal.attempt_id).where(
            EvidenceSeal.course_key == course, EvidenceSeal.seq > verified_to).order_by(EvidenceSeal.seq)
            .limit(limit)).all()
    pending = [p for p in pending if (p["attempt"], p["where"], p["message"]) not in known]
    before = (verified_to, last.digest if last else GENESIS_SEAL)  # the evidence seal the next must follow
    stored: list[dict] = []
    checked, first, to = 0, None, None
    waiting = False
    for start in range(0, len(new), BATCH):
        if waiting:
            break
        batch = new[start:start + BATCH]
        with sessions.begin() as session:
            found: list[dict] = list(pending)
            pending = []
            rows = []
            seqs = [seq for seq, _attempt in batch]
            ids = [attempt_id for _seq, attempt_id in batch]
            kept = {row.seq: row for row in session.scalars(select(EvidenceSeal).where(
                EvidenceSeal.course_key == course, EvidenceSeal.seq.in_(seqs)))}
            verified = dict(session.execute(select(CityVerifiedSeal.attempt_id, CityVerifiedSeal.digest).where(
                CityVerifiedSeal.course_code == course, CityVerifiedSeal.attempt_id.in_(ids))).all())
            sealed = set(session.scalars(select(Seal.attempt_id).where(Seal.course_key == course,
                                                                        Seal.attempt_id.in_(ids))))
            for seq, attempt_id in batch:
                row = kept.get(seq)
                if row is None:  # removed since the list was read: found by the next pass's count
                    continue
                if attempt_id not in verified and attempt_id in sealed:
                    waiting = True  # its attempt's seal is not verified yet: this and the rest next pass
                    break
                mine = _check_evidence(row, keys, verified.get(attempt_id), before)
                mine_dicts = [p for p in map(_problem, mine) if (p["attempt"], p["where"], p["message"]) not in known]
                found += mine_dicts
                digest = evidence_digest(row)
                rows.append(CityVerifiedEvidence(course_code=course, seq=seq, attempt_id=attempt_id, digest=digest,
                                                 ok=not mine))
                before = (seq, digest)
            if not rows and not found:
                continue
            first_seq = rows[0].seq if rows else None
            last_seq = rows[-1].seq if rows else None
            result = _result(course, EVIDENCE_CHAIN, first_seq, last_seq, len(rows), found, started, now(), EVIDENCE)
            session.add(result)
            session.flush()
            for row in rows:
                row.result_id = result.id
            session.add_all(rows)
        checked += len(rows)
        if rows:
            first = rows[0].seq if first is None else first
            to = rows[-1].seq
        stored += found
    if pending:  # problems found with no new evidence seal to check
        with sessions.begin() as session:
            session.add(_result(course, EVIDENCE_CHAIN, None, None, 0, pending, started, now(), EVIDENCE))
        stored += pending
    return ChainResult(course, EVIDENCE_CHAIN, checked, first, to, tuple(stored), kind=EVIDENCE)


def _check_evidence(row: EvidenceSeal, keys: dict[str, str], attempt_seal: str | None,
                    before: tuple[int, str]) -> list[Problem]:
    """One evidence seal as the city can check it: by itself, its number and link, the seal it names."""
    problems: list[Problem] = []

    def bad(where: str, message: str) -> None:
        problems.append(Problem(row.attempt_id, where, message))

    payload = check_statement(row, keys, None, bad, KEYS_WHERE)
    if payload is None:
        return problems
    if payload.get("seq") != row.seq:
        bad("evidence chain", f"number column {row.seq} differs from the sealed number {payload.get('seq')}")
    previous, previous_digest = before
    if row.seq != previous + 1:
        bad("evidence chain", f"evidence seals {previous + 1}..{row.seq - 1} (before this one) are missing: "
                              "video statements were removed")
    elif payload.get("prev") != previous_digest:
        bad("evidence chain", "the first evidence seal does not start the chain" if previous == 0 else
            f"evidence seal {previous} is not the one this follows, as the city verified it: it was edited or "
            "replaced")
    if attempt_seal is None:
        bad("evidence seal", "names an attempt seal the city never verified and that is not at the city")
    elif attempt_seal != payload.get("attempt_seal"):
        bad("evidence seal", "names another seal of the attempt than the one the city verified (the seal was "
                             "edited or replaced)")
    return problems


def _evidence_still_there(session: Session, course: str, last) -> list[Problem]:
    """What the city verified of the course's evidence chain is still there as it was."""
    problems = []
    if last is None:
        return problems
    anchor = session.scalar(select(EvidenceSeal).where(EvidenceSeal.course_key == course,
                                                       EvidenceSeal.seq == last.seq))
    if anchor is not None and evidence_digest(anchor) != last.digest:
        problems.append(Problem(last.attempt_id, EVIDENCE_HEAD,
                                f"evidence seal {last.seq} (attempt {last.attempt_id}) is not the evidence seal "
                                "the city verified: it was replaced or edited"))
    present = session.scalar(select(func.count()).select_from(EvidenceSeal).where(
        EvidenceSeal.course_key == course, EvidenceSeal.seq <= last.seq))
    if present < last.seq:
        gone = session.execute(
            select(CityVerifiedEvidence.seq, CityVerifiedEvidence.attempt_id)
            .outerjoin(EvidenceSeal, (EvidenceSeal.course_key == CityVerifiedEvidence.course_code)
                       & (EvidenceSeal.seq == CityVerifiedEvidence.seq))
            .where(CityVerifiedEvidence.course_code == course, EvidenceSeal.seq.is_(None))
            .order_by(CityVerifiedEvidence.seq)).all()
        for seq, attempt_id in gone:
            problems.append(Problem(attempt_id, EVIDENCE_HEAD,
                                    f"evidence seal {seq} (attempt {attempt_id}), verified by the city, is gone: "
                                    "the attempt's sealed video statement was removed"))
        if not gone:
            problems.append(Problem(None, EVIDENCE_HEAD, f"{last.seq - present} evidence seal(s) up to {last.seq} "
                                                         "are missing: video statements were removed"))
    return problems


def _releases(sessions: sessionmaker[Session], course: str, keys: dict[str, str],
              now: Callable[[], datetime]) -> ChainResult:
    """Verify the course's evidence releases the city has not checked yet (``check_release``: the
    signature against the registered key), and that those it checked are still there as they were.

    Releases are few (one a retention run) and not numbered without gaps, so the ones checked are
    known by id; a release that does not hold, or one checked and gone or changed since, is a
    problem of every attempt whose video it names."""
    started = now()
    with sessions() as session:
        known = _known(session, course, RELEASES)
        checked_before = session.execute(select(CityVerifiedRelease.release_id, CityVerifiedRelease.digest,
                                                CityVerifiedRelease.attempts)
                                         .where(CityVerifiedRelease.course_code == course)).all()
        done = {r.release_id for r in checked_before}
        found: list[Problem] = []
        present = {row_id for row_id in session.scalars(select(EvidenceRelease.id).where(
            EvidenceRelease.course_key == course))}
        for release_id, _digest, attempts in checked_before:
            if release_id not in present:
                found += _release_problems(attempts, f"evidence release {release_id}, verified by the city, is "
                                                     "gone: the deletion it signed is no longer accounted for")
        if checked_before:  # the newest checked, as the seal walk checks its last seal (a release can be long)
            newest = max(checked_before, key=lambda r: r.release_id)
            anchor = session.scalar(select(EvidenceRelease).where(EvidenceRelease.course_key == course,
                                                                  EvidenceRelease.id == newest.release_id))
            if anchor is not None and release_digest(anchor) != newest.digest:
                found += _release_problems(newest.attempts, f"evidence release {newest.release_id} is not the "
                                                            "release the city verified: it was replaced or edited")
        new = session.scalars(select(EvidenceRelease).where(
            EvidenceRelease.course_key == course, EvidenceRelease.id.not_in(done))
            .order_by(EvidenceRelease.id)).all()
        rows = []
        for release in new:
            wrong, attempts = check_release(release, keys, KEYS_WHERE)
            for message in wrong:
                found += _release_problems(attempts, message)
            rows.append(CityVerifiedRelease(course_code=course, release_id=release.id, digest=release_digest(release),
                                            attempts=attempts, ok=not wrong))
    problems = [p for p in map(_problem, found) if (p["attempt"], p["where"], p["message"]) not in known]
    if rows or problems:
        with sessions.begin() as session:
            result = _result(course, RELEASES_CHAIN, rows[0].release_id if rows else None,
                             rows[-1].release_id if rows else None, len(rows), problems, started, now(), RELEASES)
            session.add(result)
            session.flush()
            for row in rows:
                row.result_id = result.id
            session.add_all(rows)
    return ChainResult(course, RELEASES_CHAIN, len(rows), rows[0].release_id if rows else None,
                       rows[-1].release_id if rows else None, tuple(problems), kind=RELEASES)


def _release_problems(attempts: list[int], message: str) -> list[Problem]:
    """One problem for each attempt whose video the release names (none named: one of the records)."""
    return [Problem(attempt, RELEASE, message) for attempt in attempts] or [Problem(None, RELEASE, message)]


def _note_heads(sessions: sessionmaker[Session], course: str, now: datetime) -> None:
    """Keep the course's chain heads as seen now (a head already kept is not kept again)."""
    with sessions.begin() as session:
        for chain, head in chain_heads(session, course_key=course).items():
            if session.scalar(select(CitySeenHead.id).where(
                    CitySeenHead.course_code == course, CitySeenHead.chain == chain,
                    CitySeenHead.digest == head["digest"])) is None:
                session.add(CitySeenHead(course_code=course, chain=chain, seq=head["seq"], digest=head["digest"],
                                         seen_utc=now))


# -- continuously ------------------------------------------------------------------------------

class VerificationLoop:
    """Runs ``verify_pass`` every ``every_s`` seconds in a thread until ``stop()``.

    A pass that fails (the database out of reach) is logged and tried again next time: the state
    is in the database, so nothing is lost and the next pass resumes where the last batch ended.
    ``on_pass``: called with each summary (the command line prints it).
    """

    def __init__(self, engine: Engine, every_s: float, now: Callable[[], datetime],
                 on_pass: Callable[[PassSummary], None] | None = None, limit: int | None = None) -> None:
        self.engine, self.every_s, self.now, self.on_pass, self.limit = engine, every_s, now, on_pass, limit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Passes until ``stop()`` (in the calling thread)."""
        while not self._stop.is_set():
            try:
                summary = verify_pass(self.engine, self.now, limit=self.limit)
            except Exception:  # noqa: BLE001 - the loop must outlive a database that went away for a while
                log.exception("city verification pass failed; trying again in %s s", self.every_s)
            else:
                if self.on_pass is not None:
                    self.on_pass(summary)
            self._stop.wait(self.every_s)

    def request_stop(self) -> None:
        """End the loop after the pass under way (a signal handler may call it)."""
        self._stop.set()

    def start(self) -> VerificationLoop:
        self._thread = threading.Thread(target=self.run, name="city-verification", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
