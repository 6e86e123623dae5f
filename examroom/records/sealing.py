"""Sealing finished attempts with the course's Ed25519 key.

When an attempt ends, its record — candidate, booking, vehicle, status, score,
each deduction, the journal's row count and chain head, the rule set and the
course it was judged on (their hashes) and the evidence list (check-in photo
digest) — is written as canonical JSON and signed. Seals form one chain per
course: each is numbered within its course and names the digest of the one
before, so removing a whole attempt is as visible as editing one; the digest of
a chain's newest seal (its head) is handed out of the database (the sitting's
closing summary, the API), so removing the newest attempts shows too
(``examroom verify --head``). ``examroom.records.verify`` rebuilds the same payload
from the stored rows and compares.

Payload versions: 1 (before migration 0010) — one chain for the whole
database, no course or rule-set hashes in the record; 2 — chains per course,
hashes of the stored course and rule-set snapshots; 3 (a course with a code,
migration 0013) — the course's code in the record and beside the chain, so a
record cannot pass for another course's (docs/city.md); 4 — version 3 and the
1:1 face checks of the attempt with the supervisor's decisions (``identity``,
migration 0014); 5 — what a course without a code seals now: version 2 and
``identity`` (its code may come later, so it is not signed). Older seals keep
verifying as they were made.

The private key lives in the course's data folder (created on first start,
readable by its owner only); the public key is exported beside it and kept in
the database so records verify offline, or against a pinned public key file.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from examroom import courseclock
from examroom.records.course_snapshot import snapshot_sha256
from examroom.records.models import (
    Attempt, AttemptStatus, Booking, Deduction, IdentityCheck, JournalEntry, Seal, SealKey, Sitting,
)
from examroom.records.slip_token import sign_slip, slip_claims

PRIVATE_KEY_FILE = "course-seal-key.pem"
PUBLIC_KEY_FILE = "course-seal-key.pub.pem"
PAYLOAD_VERSION = 4
UNBOUND_VERSION = 5  # what a course without a code seals (no course code; see COURSE_BOUND)
# Which payload versions carry what (versions are not a ladder: 5 is 2 and the face checks).
COURSE_BOUND = frozenset({3, 4})
WITH_IDENTITY = frozenset({4, 5})
VERSIONS = (1, 2, 3, 4, 5)
SEAL_TRIES = 5  # a seal number taken by another writer in between is retried with the new last seal
LEGACY_CHAIN = ""  # the one chain of version-1 seals
GENESIS_SEAL = "0" * 64


class SealError(RuntimeError):
    """A seal that cannot be made (attempt not final, already sealed, unknown)."""


def canonical(data) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept (what is signed and compared)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def utc_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return courseclock.as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # SQLite's naive times are UTC


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


def signature_holds(key: Ed25519PublicKey, payload: str, signature: str) -> bool:
    """``signature`` (hex) is ``key``'s Ed25519 signature of ``payload``."""
    try:
        key.verify(bytes.fromhex(signature), payload.encode("utf-8"))
        return True
    except (InvalidSignature, ValueError):
        return False


def signing_key(signer: str, keys: dict[str, str], pinned: Ed25519PublicKey | None, where: str, bad,
                keys_where: str = "in the database") -> Ed25519PublicKey | None:
    """The key to check a record that names ``signer`` as its key with (verify's seals and evidence
    seals): ``pinned`` when given (a record naming another key is told to ``bad(where, message)``,
    and still checked against the pinned one), else the signer's among ``keys`` (key id -> PEM;
    None, told to ``bad``, when it is not there: ``keys_where`` says where they come from)."""
    if pinned is None:
        pem = keys.get(signer)
        if pem is None:
            bad(where, f"signed with key {signer}, which is not {keys_where}")
            return None
        return load_public_key(pem)
    if key_id(pinned) != signer:
        bad(where, f"signed with key {signer}, not the pinned key {key_id(pinned)}")
    return pinned


def load_key(data_dir: Path) -> Ed25519PrivateKey:
    """The course key already in ``data_dir`` (FileNotFoundError when there is none; nothing is created)."""
    private_path = data_dir / PRIVATE_KEY_FILE
    key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{private_path}: not an Ed25519 private key")
    return key


def load_or_create_key(data_dir: Path) -> Ed25519PrivateKey:
    """The course key from ``data_dir``, generated there on first start."""
    data_dir.mkdir(parents=True, exist_ok=True)
    private_path = data_dir / PRIVATE_KEY_FILE
    if private_path.exists():
        key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{private_path}: not an Ed25519 private key")
    else:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        # Created owner-only from the start, never world-readable for an instant.
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    (data_dir / PUBLIC_KEY_FILE).write_text(public_pem(key.public_key()), encoding="utf-8")
    return key


def seal_digest(seal: Seal) -> str:
    """What the next seal names as its predecessor: the signed bytes and the signature."""
    return hashlib.sha256((seal.payload + "\n" + seal.signature).encode("utf-8")).hexdigest()


def journal_summary(session: Session, attempt_id: int, course_key: str | None = None) -> dict:
    """Rows, last seq and head of an attempt's journal (``course_key`` None: the session's course)."""
    course = session.info.get("course_code") if course_key is None else course_key
    of_attempt = (JournalEntry.course_key == course, JournalEntry.attempt_id == attempt_id)
    count, last_seq = session.execute(
        select(func.count(JournalEntry.id), func.max(JournalEntry.seq)).where(*of_attempt)).one()
    head = session.scalar(select(JournalEntry.hash).where(*of_attempt)
                          .order_by(JournalEntry.seq.desc()).limit(1))
    return {"rows": count, "last_seq": last_seq, "head": head}


def _sha256_of(data) -> str | None:
    return None if data is None else hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def record_of(session: Session, attempt: Attempt, version: int = PAYLOAD_VERSION) -> dict:
    """The sealable record of an attempt, rebuilt from the stored rows, in a payload version's shape.

    Sealing signs this; verifying rebuilds it and compares field by field, so
    every stored field an auditor relies on must be here.
    """
    course = attempt.course_key  # every row named by the course's key, so this works at the city too
    booking = session.get(Booking, (course, attempt.booking_id)) if attempt.booking_id is not None else None
    sitting = session.get(Sitting, (course, booking.sitting_id)) if booking is not None else None
    deductions = session.scalars(select(Deduction).where(Deduction.course_key == course,
                                                         Deduction.attempt_id == attempt.id)
                                 .order_by(Deduction.id)).all()
    candidate, vehicle = attempt.candidate, attempt.vehicle
    evidence = []
    if version in WITH_IDENTITY and booking is not None and booking.photo_sha256:
        # From the stored digest, so the city (which never receives the photo, personal data) rebuilds
        # the same record; where the photo is kept, verify checks its bytes against this digest.
        evidence.append({"kind": "checkin_photo", "sha256": booking.photo_sha256, "bytes": booking.photo_bytes})
    elif booking is not None and booking.photo is not None:
        evidence.append({"kind": "checkin_photo", "sha256": hashlib.sha256(booking.photo).hexdigest(),
                         "bytes": len(booking.photo)})
    elif booking is not None and booking.personal_data_deleted_utc is not None and booking.photo_sha256:
        # The photo's retention ended (examroom.faces.personal_data): what was sealed is its digest and
        # size, kept when the photo was deleted; the bytes can no longer be checked against them.
        evidence.append({"kind": "checkin_photo", "sha256": booking.photo_sha256, "bytes": booking.photo_bytes})
    record = {
        "attempt": attempt.id,
        "attempt_no": attempt.attempt_no,
        "candidate": {"name": candidate.name, "id_number": candidate.id_number,
                      "exam_number": candidate.exam_number, "vehicle_class": candidate.vehicle_class},
        "booking": None if booking is None else {
            "id": booking.id, "serial_number": booking.serial_number, "school": booking.school,
            "exam_reason": booking.exam_reason, "vehicle_class": booking.vehicle_class,
            "checked_in_utc": utc_text(booking.checked_in_utc), "confirmed_by": booking.confirmed_by,
            "photo_sha256": booking.photo_sha256},
        "sitting": None if sitting is None else {"code": sitting.code, "course_code": sitting.course_code},
        "vehicle": {"id": vehicle.id, "plate": vehicle.plate, "vehicle_class": attempt.vehicle_class},
        "course": attempt.course,
        "rule_set": attempt.rule_set,
        "status": attempt.status,
        "score": attempt.score,
        "passed": attempt.passed,
        "reason": attempt.reason,
        "checked_in_utc": utc_text(attempt.checked_in_utc),
        "started_utc": utc_text(attempt.started_utc),
        "ended_utc": utc_text(attempt.ended_utc),
        "result_sha256": hashlib.sha256(canonical(attempt.result).encode()).hexdigest(),
        "deductions": [{"rule": d.rule, "code": d.code, "title": d.title, "points": d.points,
                        "disqualify": d.disqualify, "item": d.item, "t": d.t, "utc": utc_text(d.utc),
                        "value": d.value} for d in deductions],
        "journal": journal_summary(session, attempt.id, course),
        "evidence": evidence,
    }
    if version >= 2:
        # What a re-judge runs on: the stored snapshots, by content (an edited snapshot shows)
        # and by the hash recorded beside each.
        record["rule_set_hash"] = attempt.rule_set_hash
        record["rule_set_snapshot_sha256"] = _sha256_of(attempt.rule_set_snapshot)
        record["course_sha256"] = attempt.course_sha256
        record["course_snapshot_sha256"] = snapshot_sha256(attempt.course_snapshot)
    if version in COURSE_BOUND:
        record["course_code"] = course
    if version in WITH_IDENTITY:
        record["identity"] = identity_record(session, attempt, booking)
    return record


def identity_record(session: Session, attempt: Attempt, booking: Booking | None) -> dict | None:
    """The 1:1 face checks of an attempt (issue 17): the booking's reference, each check-in comparison
    with the supervisor's decision, and the in-cab mismatch runs with their frames' digests.

    Built from stored digests and values, never from the pictures, so deleting the pictures when
    their retention ends leaves the record as sealed.
    """
    if booking is None:
        return None
    checks = session.scalars(
        select(IdentityCheck).where(IdentityCheck.course_key == booking.course_key,
                                    IdentityCheck.booking_id == booking.id)
        .where((IdentityCheck.kind == "checkin") | (IdentityCheck.attempt_id == attempt.id))
        .order_by(IdentityCheck.utc, IdentityCheck.id)).all()
    # The in-cab runs' frames by digest, kept on their checks (the frames themselves are course-only
    # face flags): in time order, one run after another.
    frames = [digest for c in checks if c.kind == "in_cab" for digest in (c.frame_sha256s or [])]
    return {
        "reference": {"sha256": booking.reference_sha256, "source": booking.reference_source,
                      "confirmed_by": booking.reference_confirmed_by, "model": booking.face_model},
        "checks": [{"kind": c.kind, "source": c.source, "utc": utc_text(c.utc), "outcome": c.outcome,
                    "unclear": c.unclear, "distance": None if c.distance is None else round(c.distance, 4),
                    "threshold": c.threshold, "model": c.model, "frames": c.frames,
                    "picture_sha256": c.picture_sha256, "decision": c.decision, "decided_by": c.decided_by,
                    "decided_utc": utc_text(c.decided_utc), "comment": c.decision_comment} for c in checks],
        "mismatch_frames": list(frames),
    }


def payload_version(course_key: str) -> int:
    """The version a course seals now: 4 binds its code; a course without one seals 5 (its code may come later)."""
    return PAYLOAD_VERSION if course_key else UNBOUND_VERSION


def chain_heads(session: Session, chains: list[str] | None = None, course_key: str | None = None) -> dict[str, dict]:
    """Each seal chain's newest seal: {chain: {seq, digest, attempt, sealed_utc}}, of one course
    (``course_key``; None: the session's).

    The digest is what is anchored outside the database (``examroom verify --head``).
    """
    course = session.info.get("course_code") if course_key is None else course_key
    heads = {}
    query = select(Seal.chain, func.max(Seal.seq)).where(Seal.course_key == course).group_by(Seal.chain)
    if chains is not None:
        query = query.where(Seal.chain.in_(chains))
    for chain, seq in session.execute(query).all():
        seal = session.scalar(select(Seal).where(Seal.course_key == course, Seal.chain == chain, Seal.seq == seq))
        heads[chain] = {"seq": seq, "digest": seal_digest(seal), "attempt": seal.attempt_id,
                        "sealed_utc": utc_text(seal.sealed_utc)}
    return heads


def _lock_chain(session: Session, course_key: str, chain: str) -> None:
    """Serialise the writers of one seal chain until this transaction ends (PostgreSQL).

    Two controllers (or a controller and a recovery) sealing into one database would otherwise
    both read seal n as the last and both write n + 1. SQLite writers are serialised by the
    database lock; a clash there is retried (``Sealer.seal``).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:chain, 0))"),
                        {"chain": f"examroom-seal\n{course_key}\n{chain}"})


class Sealer:
    """Signs finished attempts; the only writer of seals (the controller process)."""

    def __init__(self, sessions: sessionmaker[Session], private_key: Ed25519PrivateKey,
                 rule_set_sha256: str = "") -> None:
        self._sessions = sessions
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)
        self.rule_set_sha256 = rule_set_sha256
        with sessions.begin() as session:
            if session.get(SealKey, self.key_id) is None:
                session.add(SealKey(key_id=self.key_id, public_pem=public_pem(self.public_key),
                                    created_utc=datetime.now(timezone.utc)))

    def seal(self, attempt_id: int) -> Seal:
        for attempt_no in range(SEAL_TRIES):
            try:
                return self._seal(attempt_id)
            except IntegrityError:
                # Another writer took the seal number between our read of the last seal and our
                # write (SQLite; PostgreSQL's chain lock prevents it): read the new last seal.
                if attempt_no == SEAL_TRIES - 1:
                    raise

    def _seal(self, attempt_id: int) -> Seal:
        with self._sessions.begin() as session:
            attempt = session.get(Attempt, attempt_id)
            if attempt is None:
                raise SealError(f"unknown attempt {attempt_id}")
            if not AttemptStatus(attempt.status).final:
                raise SealError(f"attempt {attempt_id} is {attempt.status}: only a finished attempt is sealed")
            if session.get(Seal, attempt_id) is not None:
                raise SealError(f"attempt {attempt_id} is already sealed")
            chain, course = attempt.course, attempt.course_key
            _lock_chain(session, course, chain)
            previous = session.scalar(select(Seal).where(Seal.course_key == course, Seal.chain == chain)
                                      .order_by(Seal.seq.desc()).limit(1))
            now = datetime.now(timezone.utc)
            version = payload_version(course)
            payload = {
                "version": version,
                "record": record_of(session, attempt, version),
                # Sealed-only facts: what the rule-set file was, when and after which seal of which chain.
                "rule_set_sha256": self.rule_set_sha256,
                "sealed_utc": utc_text(now),
                "chain": chain,
                "seq": 1 if previous is None else previous.seq + 1,
                "prev_seal": GENESIS_SEAL if previous is None else seal_digest(previous),
            }
            if version in COURSE_BOUND:
                payload["course_code"] = course
            signed = canonical(payload)
            seal = Seal(course_key=course, attempt_id=attempt_id, chain=chain, seq=payload["seq"], payload=signed,
                        signature=self._key.sign(signed.encode("utf-8")).hex(), key_id=self.key_id,
                        sealed_utc=now, slip=sign_slip(slip_claims(attempt, self.key_id), self._key))
            session.add(seal)
            return seal

    def seal_unsealed(self) -> list[int]:
        """Seal every finished attempt that has no seal yet (after a crash between finish and seal)."""
        with self._sessions() as session:
            ids = session.scalars(
                select(Attempt.id)
                .outerjoin(Seal, (Seal.course_key == Attempt.course_key) & (Seal.attempt_id == Attempt.id))
                .where(Attempt.course_key == session.info.get("course_code"), Seal.attempt_id.is_(None))
                .where(Attempt.status.notin_([AttemptStatus.CHECKED_IN.value, AttemptStatus.RUNNING.value]))
                .order_by(Attempt.id)).all()
        for attempt_id in ids:
            self.seal(attempt_id)
        return list(ids)
