"""Offline verification of sealed attempts: says exactly what does not match.

For each attempt: the seal exists and its Ed25519 signature holds over its
payload (with the key kept in the database, or a pinned public key file); the
record rebuilt from the stored rows equals the sealed record field by field;
the journal's hash chain holds row by row and ends at the sealed head; the
seal names the digest of the seal before it in its course's chain. An attempt
that has a seal is checked whatever its status says (a sealed attempt set back
to "running" is a finding, not an attempt still running). Given chain heads
anchored outside the database (``heads``), each must still be a seal of its
chain with every seal before it present, so removing the newest sealed
attempts shows too. An attempt's evidence seal (its filed video, signed after it:
``examroom.records.evidence_seals``) is checked too: its signature, the seal it names, its place
in the course's evidence chain and, given the recordings folder, every sealed file's size and
SHA-256; a file a signed evidence release deleted is reported (``video_gone``), not a problem.
Nothing here writes.

One course's records are verified at a time: the session's course, or the one
named (``course``; at the city, which holds every course's). A version-3 or -4 seal
binds the course's code, and its journal names the attempt as
``<course>/<id>`` (examroom.records.journal_chain).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom import courseclock
from examroom.records.evidence_seals import GoneVideo, ReleaseBook, verify_evidence
from examroom.records.journal_chain import genesis, row_hash
from examroom.records.models import Attempt, AttemptStatus, Booking, IdentityCheck, JournalEntry, Seal, SealKey
from examroom.records.sealing import (
    COURSE_BOUND, GENESIS_SEAL, LEGACY_CHAIN, VERSIONS, WITH_IDENTITY, record_of, seal_digest, signature_holds, signing_key,
    utc_text,
)

@dataclass(frozen=True)
class Problem:
    attempt: int | None  # None: a finding about a seal chain as a whole
    where: str  # seal, signature, record.<path>, journal seq N, seal chain, seal chain head
    message: str

    def __str__(self) -> str:
        return f"{'records' if self.attempt is None else f'attempt {self.attempt}'}: {self.where}: {self.message}"


@dataclass
class VerifyReport:
    checked: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unfinished: list[int] = field(default_factory=list)  # still running: nothing to verify yet
    anchored: dict[str, dict] = field(default_factory=dict)  # head digest given → {chain, seq} found
    video_gone: list[GoneVideo] = field(default_factory=list)  # sealed video a signed release deleted (not a problem)

    @property
    def ok(self) -> bool:
        return not self.problems


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A course's day (its local calendar day, examroom.courseclock) as UTC bounds."""
    return courseclock.day_bounds(day)


def verify(sessions: sessionmaker[Session], attempts: list[int] | None = None, day: date | None = None,
           public_key: Ed25519PublicKey | None = None, heads: list[str] | None = None,
           course: str | None = None, recordings_dir: Path | None = None) -> VerifyReport:
    """Verify the given attempts, a day's attempts, or (neither given) every attempt of one course.

    ``heads``: seal digests anchored outside the database (chain heads handed out
    earlier); each must still be in its chain, with no seal missing up to it.
    ``course``: the course whose records (None: the session's course; needed at the city).
    ``recordings_dir``: the course's recordings folder: each segment file an evidence seal names is
    checked against its sealed size and SHA-256 (without it, at the city, the evidence seals'
    signatures and links are checked and the files are not).
    """
    report = VerifyReport()
    with sessions() as session:
        if course is None:
            course = session.info.get("course_code")
        if course is None:
            raise ValueError("this database holds several courses' records: name the course to verify")
        query = select(Attempt).where(Attempt.course_key == course).order_by(Attempt.id)
        if attempts is not None:
            query = query.where(Attempt.id.in_(attempts))
            found = set(session.scalars(select(Attempt.id).where(Attempt.course_key == course,
                                                                 Attempt.id.in_(attempts))))
            for missing in sorted(set(attempts) - found):
                report.problems.append(Problem(missing, "attempt", "no such attempt in the database"))
        if day is not None:
            start, end = day_bounds(day)
            query = query.where(Attempt.checked_in_utc >= start, Attempt.checked_in_utc < end)
        keys = {k.key_id: k.public_pem for k in session.scalars(select(SealKey).where(SealKey.course_key == course))}
        sealed = set(session.scalars(select(Seal.attempt_id).where(Seal.course_key == course)))
        releases = ReleaseBook(session, course, public_key)  # read once, when a sealed video needs it
        for attempt in session.scalars(query):
            # A seal settles it: whatever the status column says now, the attempt was finished.
            if attempt.id not in sealed and not _final(attempt.status):
                report.unfinished.append(attempt.id)
                continue
            report.checked.append(attempt.id)
            report.problems += _verify_attempt(session, attempt, keys, public_key, recordings_dir, report.video_gone,
                                               releases)
        for head in heads or []:
            report.problems += _check_head(session, head, report, course)
    return report


def _final(status: str) -> bool:
    try:
        return AttemptStatus(status).final
    except ValueError:  # a status nobody writes: treat as finished, so the missing seal is named
        return True


def _check_head(session: Session, head: str, report: VerifyReport, course: str) -> list[Problem]:
    """An anchored chain head must still be a seal, with every seal of its chain before it."""
    wanted = head.strip().lower()
    if len(wanted) != 64 or any(c not in "0123456789abcdef" for c in wanted):
        return [Problem(None, "seal chain head", f"{head!r} is not a seal digest (64 hex characters)")]
    found = None
    for seal in session.scalars(select(Seal).where(Seal.course_key == course).order_by(Seal.chain, Seal.seq)):
        if seal_digest(seal) == wanted:
            found = seal
            break
    if found is None:
        return [Problem(None, "seal chain head",
                        f"the anchored head {wanted[:16]}… is not among the seals: the sealed attempts it "
                        "closed (the newest when it was handed out) were removed or their seal replaced")]
    report.anchored[wanted] = {"chain": found.chain, "seq": found.seq, "attempt": found.attempt_id}
    present = set(session.scalars(select(Seal.seq).where(Seal.course_key == course, Seal.chain == found.chain,
                                                         Seal.seq <= found.seq)))
    missing = sorted(set(range(1, found.seq + 1)) - present)
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        return [Problem(None, "seal chain head",
                        f"chain {found.chain!r} up to the anchored head (seal {found.seq}) is missing "
                        f"seal(s) {shown}: sealed attempts were removed")]
    return []


def verify_attempt(session: Session, attempt: Attempt, keys: dict[str, str],
                   keys_where: str = "in the database") -> list[Problem]:
    """One attempt, checked as :func:`verify` checks it, against the given keys (key id -> PEM).

    The city's verification pass (``examroom.city.verification``) gives the keys it registered
    itself (``keys_where`` says where they come from, for the message of a key not among them).
    """
    return _verify_attempt(session, attempt, keys, None, keys_where=keys_where)


def _verify_attempt(session: Session, attempt: Attempt, keys: dict[str, str],
                    pinned: Ed25519PublicKey | None, recordings_dir: Path | None = None,
                    video_gone: list[GoneVideo] | None = None, releases: ReleaseBook | None = None,
                    keys_where: str = "in the database") -> list[Problem]:
    problems: list[Problem] = []

    def bad(where: str, message: str) -> None:
        problems.append(Problem(attempt.id, where, message))

    course = attempt.course_key
    seal = session.get(Seal, (course, attempt.id))
    # The journal's form (its rows name the attempt with its course, or by number: written before
    # the course had a code) is the one its first row shows; the sealed head pins every row.
    for where, message in _check_journal(session, attempt.id, course, None):
        bad(where, message)
    if seal is None:
        bad("seal", f"the attempt ended as {attempt.status} but has no seal")
        return problems
    key = signing_key(seal.key_id, keys, pinned, "seal", bad, keys_where)
    if key is None:
        return problems
    if not signature_holds(key, seal.payload, seal.signature):
        bad("signature", "the Ed25519 signature does not match the sealed payload (payload or signature edited)")
    try:
        payload = json.loads(seal.payload)
    except json.JSONDecodeError as exc:
        bad("seal", f"the sealed payload is not JSON: {exc}")
        return problems
    version = payload.get("version") if isinstance(payload, dict) else None
    if version not in VERSIONS:
        bad("seal", f"unknown payload version {version!r}")
        return problems
    for path, sealed, stored in _diff(payload.get("record"), record_of(session, attempt, version), "record"):
        bad(path, f"stored {_show(stored)}, sealed {_show(sealed)}")
    if payload.get("record", {}).get("attempt") != attempt.id:
        bad("seal", f"the seal is for attempt {payload.get('record', {}).get('attempt')}")
    if version in WITH_IDENTITY:
        _check_kept_pictures(session, attempt, bad)
    _check_seal_link(session, seal, payload, bad)
    # The attempt's video, sealed after it (examroom.records.evidence_seals); any seal version.
    verify_evidence(session, attempt, keys, pinned, recordings_dir, bad, video_gone if video_gone is not None else [],
                    releases, keys_where)
    return problems


def _check_kept_pictures(session: Session, attempt: Attempt, bad) -> None:
    """Pictures a version-4/5 record names by their stored digest, checked where they are still kept.

    The record is built from the digests (the city never receives the pictures); at the course, a
    picture edited after its digest was stored shows here.
    """
    booking = (session.get(Booking, (attempt.course_key, attempt.booking_id))
               if attempt.booking_id is not None else None)
    if booking is None:
        return
    photo = booking.photo
    if photo is not None and booking.photo_sha256 and hashlib.sha256(photo).hexdigest() != booking.photo_sha256:
        bad("booking.photo", f"the check-in photo does not match its stored digest {booking.photo_sha256}")
    checks = session.scalars(select(IdentityCheck).where(IdentityCheck.course_key == booking.course_key,
                                                         IdentityCheck.booking_id == booking.id)).all()
    for check in checks:
        picture = check.picture
        if picture is not None and check.picture_sha256 and hashlib.sha256(picture).hexdigest() != check.picture_sha256:
            bad(f"identity_check {check.id}.picture",
                f"the picture does not match its stored digest {check.picture_sha256}")


def _check_journal(session: Session, attempt_id: int, course: str, form: str | None) -> list[tuple[str, str]]:
    """The attempt's journal chain row by row; ``form``: the course its rows name ('' by number),
    None: whichever its first row starts."""
    out: list[tuple[str, str]] = []
    expected_seq = 1
    # Plain rows, not ORM objects: a day holds hundreds of thousands of journal rows.
    rows = session.execute(select(JournalEntry.seq, JournalEntry.kind, JournalEntry.t, JournalEntry.utc,
                                  JournalEntry.line, JournalEntry.prev_hash, JournalEntry.hash)
                           .where(JournalEntry.course_key == course, JournalEntry.attempt_id == attempt_id)
                           .order_by(JournalEntry.seq)).all()
    if form is None:
        form = "" if rows and rows[0].prev_hash == genesis(attempt_id) else course
    expected_prev = genesis(attempt_id, form)
    for seq, kind, t, utc, line, prev_hash, digest in rows:
        where = f"journal seq {seq}"
        if seq != expected_seq:
            out.append((where, f"expected seq {expected_seq}: rows {expected_seq}..{seq - 1} are missing"))
        if digest is None:
            out.append((where, "the row has no hash (written outside the chain)"))
            expected_prev, expected_seq = digest, seq + 1
            continue
        if prev_hash != expected_prev:
            out.append((where, "prev_hash does not link to the row before (row inserted, removed or edited)"))
        if row_hash(prev_hash or "", attempt_id, seq, line, form) != digest:
            out.append((where, "the line does not match its hash (the line or the hash was edited)"))
        try:
            data = json.loads(line)
            stated = (data.get("kind"), data.get("t"), data.get("utc"))
        except (json.JSONDecodeError, AttributeError) as exc:
            out.append((where, f"the line is not a JSON observation: {exc}"))
        else:
            if stated != (kind, t, utc_text(utc)):
                out.append((where, f"columns kind/t/utc ({kind}, {t}, {utc_text(utc)}) "
                                   f"disagree with the line ({stated[0]}, {stated[1]}, {stated[2]})"))
        expected_prev, expected_seq = digest, seq + 1
    return out


def _check_seal_link(session: Session, seal: Seal, payload: dict, bad) -> None:
    if payload.get("seq") != seal.seq:
        bad("seal chain", f"seal number column {seal.seq} differs from the sealed number {payload.get('seq')}")
    # Version 1 sealed one chain for the whole database; version 2 one per course, named in the payload.
    chain = LEGACY_CHAIN if payload.get("version") == 1 else payload.get("chain")
    if seal.chain != chain:
        bad("seal chain", f"chain column {seal.chain!r} differs from the sealed chain {chain!r}")
    if payload.get("version") != 1 and chain != payload.get("record", {}).get("course"):
        bad("seal chain", f"sealed in chain {chain!r}, not the chain of its course")
    if payload.get("version") in COURSE_BOUND and payload.get("course_code") != seal.course_key:
        bad("seal chain", f"sealed for course {payload.get('course_code')!r}, kept as course {seal.course_key!r}")
    if seal.seq == 1:
        if payload.get("prev_seal") != GENESIS_SEAL:
            bad("seal chain", "the first seal does not start the chain")
        return
    previous = session.scalar(select(Seal).where(Seal.course_key == seal.course_key, Seal.chain == chain,
                                                 Seal.seq == seal.seq - 1))
    if previous is None:
        bad("seal chain", f"seal {seal.seq - 1} (the one before) is missing: a sealed attempt was removed")
    elif seal_digest(previous) != payload.get("prev_seal"):
        bad("seal chain", f"seal {seal.seq - 1} (attempt {previous.attempt_id}) is not the one this seal "
                          "follows: it was edited or replaced")


def _diff(sealed, stored, path: str):
    """(path, sealed, stored) for every leaf that differs."""
    if isinstance(sealed, dict) and isinstance(stored, dict):
        for key in sorted(set(sealed) | set(stored)):
            yield from _diff(sealed.get(key), stored.get(key), f"{path}.{key}")
    elif isinstance(sealed, list) and isinstance(stored, list):
        if len(sealed) != len(stored):
            yield f"{path} (count)", len(sealed), len(stored)
        for i, (a, b) in enumerate(zip(sealed, stored)):
            yield from _diff(a, b, f"{path}[{i}]")
    elif sealed != stored or type(sealed) is not type(stored):
        yield path, sealed, stored


def _show(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
