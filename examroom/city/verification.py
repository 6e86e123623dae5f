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
from examroom.records.models import (
    Attempt, CityCourseKey, CitySeenHead, CityVerifiedSeal, CityVerifyResult, Seal,
)
from examroom.records.sealing import chain_heads, key_id, load_public_key, seal_digest
from examroom.records.verify import Problem, verify_attempt

log = logging.getLogger(__name__)

PASS_LOCK = CITY_RECORDS_LOCK  # one pass at a time in a city database, and none during a re-sync
BATCH = 250  # seals verified and stored per transaction: a pass stopped midway resumes after the last batch
KEYS_WHERE = "registered at the city for this course"
HEAD = "seal chain head"


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
        return sum(c.checked for c in self.chains)

    @property
    def problems(self) -> int:
        return sum(len(c.problems) for c in self.chains)

    def line(self) -> str:
        """One line for the log and the command line."""
        if not self.ran:
            return "another verification pass is running: skipped"
        parts = [f"{self.checked} seal(s) verified", f"{self.problems} new problem(s)"]
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
        _note_heads(sessions, course, now())


def _verify_chain(sessions: sessionmaker[Session], course: str, chain: str, keys: dict[str, str],
                  now: Callable[[], datetime], limit: int | None) -> ChainResult:
    started = now()
    with sessions() as session:
        known = {(p["attempt"], p["where"], p["message"])
                 for problems in session.scalars(select(CityVerifyResult.problems).where(
                     CityVerifyResult.course_code == course, CityVerifyResult.chain == chain,
                     CityVerifyResult.ok.is_(False)))
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
            started: datetime, finished: datetime) -> CityVerifyResult:
    return CityVerifyResult(course_code=course, chain=chain, from_seq=first, to_seq=last, checked=checked,
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
