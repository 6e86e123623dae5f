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
hashes of the stored course and rule-set snapshots; 3 (migration 0013) —
the 1:1 face checks of the attempt and the supervisor's decisions
(``identity``). Older seals keep verifying as they were made.

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

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from examroom import courseclock
from examroom.records.course_snapshot import snapshot_sha256
from examroom.records.models import (
    Attempt, AttemptStatus, Booking, Deduction, FaceFlag, IdentityCheck, JournalEntry, Seal, SealKey, Sitting,
)
from examroom.records.slip_token import sign_slip, slip_claims

PRIVATE_KEY_FILE = "course-seal-key.pem"
PUBLIC_KEY_FILE = "course-seal-key.pub.pem"
PAYLOAD_VERSION = 3
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


def journal_summary(session: Session, attempt_id: int) -> dict:
    count, last_seq = session.execute(
        select(func.count(JournalEntry.id), func.max(JournalEntry.seq))
        .where(JournalEntry.attempt_id == attempt_id)).one()
    head = session.scalar(select(JournalEntry.hash).where(JournalEntry.attempt_id == attempt_id)
                          .order_by(JournalEntry.seq.desc()).limit(1))
    return {"rows": count, "last_seq": last_seq, "head": head}


def _sha256_of(data) -> str | None:
    return None if data is None else hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def record_of(session: Session, attempt: Attempt, version: int = PAYLOAD_VERSION) -> dict:
    """The sealable record of an attempt, rebuilt from the stored rows, in a payload version's shape.

    Sealing signs this; verifying rebuilds it and compares field by field, so
    every stored field an auditor relies on must be here.
    """
    booking = session.get(Booking, attempt.booking_id) if attempt.booking_id is not None else None
    sitting = session.get(Sitting, booking.sitting_id) if booking is not None else None
    deductions = session.scalars(select(Deduction).where(Deduction.attempt_id == attempt.id)
                                 .order_by(Deduction.id)).all()
    candidate, vehicle = attempt.candidate, attempt.vehicle
    evidence = []
    if booking is not None and booking.photo is not None:
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
        "journal": journal_summary(session, attempt.id),
        "evidence": evidence,
    }
    if version >= 2:
        # What a re-judge runs on: the stored snapshots, by content (an edited snapshot shows)
        # and by the hash recorded beside each.
        record["rule_set_hash"] = attempt.rule_set_hash
        record["rule_set_snapshot_sha256"] = _sha256_of(attempt.rule_set_snapshot)
        record["course_sha256"] = attempt.course_sha256
        record["course_snapshot_sha256"] = snapshot_sha256(attempt.course_snapshot)
    if version >= 3:
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
        select(IdentityCheck).where(IdentityCheck.booking_id == booking.id)
        .where((IdentityCheck.kind == "checkin") | (IdentityCheck.attempt_id == attempt.id))
        .order_by(IdentityCheck.utc, IdentityCheck.id)).all()
    frames = session.scalars(select(FaceFlag.jpeg_sha256).where(FaceFlag.attempt_id == attempt.id,
                                                                FaceFlag.reason == "mismatch")
                             .order_by(FaceFlag.utc, FaceFlag.id)).all()
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


def chain_heads(session: Session, chains: list[str] | None = None) -> dict[str, dict]:
    """Each seal chain's newest seal: {chain: {seq, digest, attempt, sealed_utc}}.

    The digest is what is anchored outside the database (``examroom verify --head``).
    """
    heads = {}
    query = select(Seal.chain, func.max(Seal.seq)).group_by(Seal.chain)
    if chains is not None:
        query = query.where(Seal.chain.in_(chains))
    for chain, seq in session.execute(query).all():
        seal = session.scalar(select(Seal).where(Seal.chain == chain, Seal.seq == seq))
        heads[chain] = {"seq": seq, "digest": seal_digest(seal), "attempt": seal.attempt_id,
                        "sealed_utc": utc_text(seal.sealed_utc)}
    return heads


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
        with self._sessions.begin() as session:
            attempt = session.get(Attempt, attempt_id)
            if attempt is None:
                raise SealError(f"unknown attempt {attempt_id}")
            if not AttemptStatus(attempt.status).final:
                raise SealError(f"attempt {attempt_id} is {attempt.status}: only a finished attempt is sealed")
            if session.get(Seal, attempt_id) is not None:
                raise SealError(f"attempt {attempt_id} is already sealed")
            chain = attempt.course
            previous = session.scalar(select(Seal).where(Seal.chain == chain).order_by(Seal.seq.desc()).limit(1))
            now = datetime.now(timezone.utc)
            payload = {
                "version": PAYLOAD_VERSION,
                "record": record_of(session, attempt),
                # Sealed-only facts: what the rule-set file was, when and after which seal of which chain.
                "rule_set_sha256": self.rule_set_sha256,
                "sealed_utc": utc_text(now),
                "chain": chain,
                "seq": 1 if previous is None else previous.seq + 1,
                "prev_seal": GENESIS_SEAL if previous is None else seal_digest(previous),
            }
            text = canonical(payload)
            seal = Seal(attempt_id=attempt_id, chain=chain, seq=payload["seq"], payload=text,
                        signature=self._key.sign(text.encode("utf-8")).hex(), key_id=self.key_id,
                        sealed_utc=now, slip=sign_slip(slip_claims(attempt, self.key_id), self._key))
            session.add(seal)
            return seal

    def seal_unsealed(self) -> list[int]:
        """Seal every finished attempt that has no seal yet (after a crash between finish and seal)."""
        with self._sessions() as session:
            ids = session.scalars(
                select(Attempt.id).outerjoin(Seal, Seal.attempt_id == Attempt.id)
                .where(Seal.attempt_id.is_(None))
                .where(Attempt.status.notin_([AttemptStatus.CHECKED_IN.value, AttemptStatus.RUNNING.value]))
                .order_by(Attempt.id)).all()
        for attempt_id in ids:
            self.seal(attempt_id)
        return list(ids)
