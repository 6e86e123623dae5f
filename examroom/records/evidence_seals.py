"""Evidence seals: the course's signed statement of the video that shows an attempt.

An attempt is sealed when it ends (``records.sealing``); its video is filed afterwards, segment
by segment, by the controller's video maintenance. Once every camera that serves the attempt has
filed past its evidence window (or the window for linking closed), the course signs, with the
same Ed25519 course key, a statement of the attempt's global id (``<course>/<id>``), its course
code, the digest of the attempt's seal, and per camera the ordered list of its segments: file
name (relative to the recordings folder), start and end UTC, byte length and SHA-256.

Why a table of its own and not another kind of seal in the seals' chain: a seal's key is its
attempt and its payload versions 1–5 are rebuilt field by field from the stored rows; the video
arrives later than the seal and is not a stored row of the record. So the evidence seal names
the attempt's seal by its digest (editing or replacing the seal breaks the link) and the seals
stay exactly as they were. Evidence seals chain among themselves per course (``seq`` and
``prev``, the digest of the one before), so removing one shows as removing a seal does.

When the course's evidence retention (``examroom.video.retention``; off by default) deletes sealed
segment files, it first signs an **evidence release**: the files, their digests, the attempts they
were evidence of, when and why. A sealed file named by a release whose signature holds is *gone by
retention*, reported and not a problem, at the course and (the releases are replicated) at the city;
a sealed file missing without one is a problem, and so is a release whose signature does not hold.

Nothing here touches a video file: the caller (``examroom.video.evidence``) gives the segments
with their digests; ``verify_evidence`` checks the files only where a recordings folder is given
(at the course; the city has no video and checks the signatures and the links).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from examroom import courseclock
from examroom.records.models import Attempt, EvidenceRelease, EvidenceSeal, Seal, SealKey
from examroom.records.sealing import (
    GENESIS_SEAL, SEAL_TRIES, SealError, canonical, key_id, load_public_key, seal_digest, signature_holds, signing_key,
    utc_text,
)

EVIDENCE_KIND = "video_evidence"
RELEASE_KIND = "video_release"
RELEASE_VERSIONS = (1,)
EVIDENCE_VERSION = 1
EVIDENCE_VERSIONS = (1,)
RETENTION = "retention"  # why a release deleted video; also the video_events kind on the course's timeline
CHUNK = 1 << 20


@dataclass(frozen=True)
class SealedSegment:
    """One segment as an evidence seal names it."""

    camera: str
    segment: int  # its id at the course (the city fetches it by this number)
    file: str  # relative to the recordings folder: YYYY-MM-DD/HH/<camera>/MM.SS.mp4
    start_utc: str
    end_utc: str
    bytes: int | None
    sha256: str | None  # None: the file was gone before it could be sealed

    def as_dict(self) -> dict:
        return {"segment": self.segment, "file": self.file, "start_utc": self.start_utc, "end_utc": self.end_utc,
                "bytes": self.bytes, "sha256": self.sha256}


def global_id(course: str, attempt_id: int) -> str:
    """How the city names an attempt: ``<course>/<id>`` (just the number for a course without a code)."""
    return f"{course}/{attempt_id}" if course else str(attempt_id)


def evidence_digest(row: EvidenceSeal) -> str:
    """What the next evidence seal names as its predecessor."""
    return hashlib.sha256((row.payload + "\n" + row.signature).encode("utf-8")).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sealed_segments(payload: dict) -> list[SealedSegment]:
    """The segments an evidence seal's payload names, camera by camera, in their order."""
    out = []
    for camera in payload.get("cameras", []) if isinstance(payload, dict) else []:
        for s in camera.get("segments", []):
            out.append(SealedSegment(camera.get("camera", ""), int(s.get("segment", 0)), str(s.get("file", "")),
                                     s.get("start_utc", ""), s.get("end_utc", ""), s.get("bytes"), s.get("sha256")))
    return out


@dataclass(frozen=True)
class ReleasedSegment:
    """A segment file an evidence release deletes."""

    camera: str
    file: str
    bytes: int
    sha256: str | None
    attempts: tuple[int, ...]  # the attempts it was evidence of

    def as_dict(self) -> dict:
        return {"camera": self.camera, "file": self.file, "bytes": self.bytes, "sha256": self.sha256,
                "attempts": list(self.attempts)}


def _lock_evidence_chain(session: Session, course: str) -> None:
    """Serialise the writers of a course's evidence chain until the transaction ends (PostgreSQL;
    SQLite's writers are serialised by its lock, a clash is retried), as ``sealing`` does for seals."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:chain, 0))"),
                        {"chain": f"examroom-evidence-seal\n{course}"})


class EvidenceSealer:
    """Signs attempts' video statements, and the evidence retention's releases, with the course key;
    the only writer of both (the controller process's video maintenance)."""

    def __init__(self, sessions: sessionmaker[Session], private_key: Ed25519PrivateKey) -> None:
        self._sessions = sessions
        self._key = private_key
        self.key_id = key_id(private_key.public_key())

    def seal(self, attempt_id: int, cameras: dict[str, list[SealedSegment]], window: tuple[datetime, datetime],
             now: datetime | None = None) -> EvidenceSeal:
        """Seal the attempt's video: ``cameras`` maps each camera that serves it to its segments
        (in time order; an empty list: the camera filed nothing of it); ``window`` the span the
        segments were linked for."""
        for attempt_no in range(SEAL_TRIES):
            try:
                return self._seal(attempt_id, cameras, window, now)
            except IntegrityError:  # another writer took the number (SQLite): read the new last one
                if attempt_no == SEAL_TRIES - 1:
                    raise

    def _seal(self, attempt_id, cameras, window, now) -> EvidenceSeal:
        with self._sessions.begin() as session:
            attempt = session.get(Attempt, attempt_id)
            if attempt is None:
                raise SealError(f"unknown attempt {attempt_id}")
            course = attempt.course_key
            seal = session.get(Seal, (course, attempt_id))
            if seal is None:
                raise SealError(f"attempt {attempt_id} has no seal yet: its video is sealed after it")
            if session.get(EvidenceSeal, (course, attempt_id)) is not None:
                raise SealError(f"the video of attempt {attempt_id} is already sealed")
            _lock_evidence_chain(session, course)
            previous = session.scalar(select(EvidenceSeal).where(EvidenceSeal.course_key == course)
                                      .order_by(EvidenceSeal.seq.desc()).limit(1))
            now = now or datetime.now(timezone.utc)
            payload = {
                "kind": EVIDENCE_KIND,
                "version": EVIDENCE_VERSION,
                "attempt": attempt_id,
                "course_code": course,  # '' for a course without a code: not bound (its code may come later)
                "global_id": global_id(course, attempt_id),
                "attempt_seal": seal_digest(seal),
                "window": {"from_utc": utc_text(window[0]), "to_utc": utc_text(window[1])},
                "cameras": [{"camera": camera, "segments": [s.as_dict() for s in segments]}
                            for camera, segments in sorted(cameras.items())],
                "sealed_utc": utc_text(now),
                "seq": 1 if previous is None else previous.seq + 1,
                "prev": GENESIS_SEAL if previous is None else evidence_digest(previous),
            }
            signed = canonical(payload)
            row = EvidenceSeal(course_key=course, attempt_id=attempt_id, seq=payload["seq"], payload=signed,
                               signature=self._key.sign(signed.encode("utf-8")).hex(), key_id=self.key_id,
                               sealed_utc=now)
            session.add(row)
            return row

    def release(self, segments: list[ReleasedSegment], evidence_days: float, now: datetime,
                 reason: str = RETENTION) -> EvidenceRelease:
        """Sign that these sealed segment files are being deleted (before deleting them: a crash in
        between leaves a release naming files still there, which verify reads as they are)."""
        with self._sessions.begin() as session:
            course = session.info.get("course_code") or ""
            payload = {"kind": RELEASE_KIND, "version": 1, "course_code": course, "reason": reason,
                       "evidence_days": evidence_days, "deleted_utc": utc_text(now),
                       "segments": [s.as_dict() for s in segments]}
            signed = canonical(payload)
            row = EvidenceRelease(course_key=course, released_utc=now, payload=signed,
                                  signature=self._key.sign(signed.encode("utf-8")).hex(), key_id=self.key_id)
            session.add(row)
            session.flush()
            return row



@dataclass(frozen=True)
class Released:
    """A file an evidence release names: when, by which release, and whether its signature holds."""

    deleted_utc: datetime
    release: int
    signed: bool


class ReleaseBook:
    """A course's evidence releases, read and their signatures checked once per verification."""

    def __init__(self, session: Session, course: str, pinned: Ed25519PublicKey | None,
                 keys: dict[str, str] | None = None) -> None:
        """``keys``: the keys a release may be signed with (key id -> PEM; at the city, the ones it
        registered); None: the course's ``seal_keys`` rows."""
        self.session, self.course, self.pinned, self.keys = session, course, pinned, keys
        self._files: dict[str, Released] | None = None

    def files(self) -> dict[str, Released]:
        if self._files is None:
            keys = self.keys if self.keys is not None else {k.key_id: k.public_pem for k in self.session.scalars(
                select(SealKey).where(SealKey.course_key == self.course))}
            self._files = {}
            for row in self.session.scalars(select(EvidenceRelease).where(EvidenceRelease.course_key == self.course)
                                            .order_by(EvidenceRelease.id)):
                signed = _signature_holds(row.payload, row.signature, row.key_id, keys, self.pinned)
                try:
                    payload = json.loads(row.payload)
                    when = _parse_utc(payload.get("deleted_utc")) or courseclock.as_utc(row.released_utc)
                    named = [str(s.get("file", "")) for s in payload.get("segments", [])]
                    signed = signed and payload.get("kind") == RELEASE_KIND and payload.get("version") in RELEASE_VERSIONS
                except (json.JSONDecodeError, AttributeError, TypeError):
                    continue  # unreadable: it names nothing, so nothing it would excuse is excused
                for file in named:
                    known = self._files.get(file)
                    if known is None or (signed and not known.signed):
                        self._files[file] = Released(when, row.id, signed)
        return self._files


def _signature_holds(payload: str, signature: str, signer: str, keys: dict[str, str],
                     pinned: Ed25519PublicKey | None) -> bool:
    if pinned is not None:
        if key_id(pinned) != signer:
            return False
        key = pinned
    elif signer in keys:
        key = load_public_key(keys[signer])
    else:
        return False
    return signature_holds(key, payload, signature)


def release_digest(row: EvidenceRelease) -> str:
    """An evidence release as signed: what a release changed since it was checked is compared with."""
    return hashlib.sha256((row.payload + "\n" + row.signature).encode("utf-8")).hexdigest()


def check_release(row: EvidenceRelease, keys: dict[str, str], keys_where: str = "in the database") \
        -> tuple[list[str], list[int]]:
    """Whether an evidence release holds by itself: what is wrong with it (nothing: it holds) and
    the attempts whose video it names. Signature against its key among ``keys``, kind, version,
    course."""
    wrong: list[str] = []
    try:
        payload = json.loads(row.payload)
        segments = payload.get("segments", [])
        attempts = sorted({int(a) for s in segments for a in s.get("attempts", [])})
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
        return [f"evidence release {row.id} is not a readable release statement"], []
    if row.key_id not in keys:
        wrong.append(f"evidence release {row.id} is signed with key {row.key_id}, which is not {keys_where}")
    elif not _signature_holds(row.payload, row.signature, row.key_id, keys, None):
        wrong.append(f"the signature of evidence release {row.id} does not hold (the release was edited or forged)")
    if payload.get("kind") != RELEASE_KIND or payload.get("version") not in RELEASE_VERSIONS:
        wrong.append(f"evidence release {row.id}: unknown statement kind/version {payload.get('kind')!r}")
    if payload.get("course_code") and payload.get("course_code") != row.course_key:
        wrong.append(f"evidence release {row.id} was signed for course {payload.get('course_code')!r}, "
                     f"kept as course {row.course_key!r}")
    return wrong, attempts


def _parse_utc(value) -> datetime | None:
    """A sealed UTC time (``…Z``), or None when it is not one."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class GoneVideo:
    """A sealed segment whose file the course deleted by its evidence retention (not a problem)."""

    attempt: int
    camera: str
    file: str
    deleted_utc: datetime

    def __str__(self) -> str:
        return (f"attempt {self.attempt}: video {self.camera} {self.file}: deleted by retention on "
                f"{utc_text(self.deleted_utc)} (its sealed digest stays)")


def check_statement(row: EvidenceSeal, keys: dict[str, str], pinned: Ed25519PublicKey | None, bad,
                    keys_where: str = "in the database") -> dict | None:
    """An evidence seal by itself: its signature (against ``pinned``, or its key among ``keys``), its
    statement's kind and version, the attempt and course it names. ``bad(where, message)`` takes
    each finding; the statement is returned when it can be read as one (the caller checks the
    links: to the attempt's seal, to the evidence seal before)."""
    key = signing_key(row.key_id, keys, pinned, "evidence seal", bad, keys_where)
    if key is None:
        return None
    if not signature_holds(key, row.payload, row.signature):
        bad("evidence seal signature",
            "the Ed25519 signature does not match the sealed video statement (statement or signature edited)")
    try:
        payload = json.loads(row.payload)
    except json.JSONDecodeError as exc:
        bad("evidence seal", f"the sealed video statement is not JSON: {exc}")
        return None
    if not isinstance(payload, dict) or payload.get("kind") != EVIDENCE_KIND \
            or payload.get("version") not in EVIDENCE_VERSIONS:
        bad("evidence seal", f"unknown statement kind/version {payload.get('kind') if isinstance(payload, dict) else None!r}")
        return None
    if payload.get("attempt") != row.attempt_id:
        bad("evidence seal", f"the video statement is for attempt {payload.get('attempt')}")
    if payload.get("course_code") and payload.get("course_code") != row.course_key:
        bad("evidence seal", f"sealed for course {payload.get('course_code')!r}, kept as course {row.course_key!r}")
    return payload


def verify_evidence(session: Session, attempt: Attempt, keys: dict[str, str], pinned: Ed25519PublicKey | None,
                    recordings_dir: Path | None, bad, gone: list[GoneVideo],
                    releases: ReleaseBook | None = None, keys_where: str = "in the database") -> None:
    """Check an attempt's evidence seal, if it has one: signature, payload, the attempt's seal it
    names, its place in the course's evidence chain, and (``recordings_dir`` given, at the course)
    each sealed file's size and SHA-256. ``bad(where, message)`` takes each finding; ``gone``
    collects sealed files a signed evidence release deleted (at the city: every such file).
    ``keys_where``: where ``keys`` come from, for the message of a key not among them."""
    course = attempt.course_key
    row = session.get(EvidenceSeal, (course, attempt.id))
    if row is None:
        return
    payload = check_statement(row, keys, pinned, bad, keys_where)
    if payload is None:
        return
    seal = session.get(Seal, (course, attempt.id))
    if seal is None:
        bad("evidence seal", "names an attempt seal that is not there")
    elif seal_digest(seal) != payload.get("attempt_seal"):
        bad("evidence seal", "names another seal of the attempt than the one kept (the seal was edited or replaced)")
    _check_evidence_link(session, row, payload, bad)
    releases = releases or ReleaseBook(session, course, pinned, keys)
    _check_files(attempt.id, payload, None if recordings_dir is None else Path(recordings_dir), bad, gone,
                 releases.files())


def _check_evidence_link(session: Session, row: EvidenceSeal, payload: dict, bad) -> None:
    if payload.get("seq") != row.seq:
        bad("evidence chain", f"number column {row.seq} differs from the sealed number {payload.get('seq')}")
    if row.seq == 1:
        if payload.get("prev") != GENESIS_SEAL:
            bad("evidence chain", "the first evidence seal does not start the chain")
        return
    previous = session.scalar(select(EvidenceSeal).where(EvidenceSeal.course_key == row.course_key,
                                                         EvidenceSeal.seq == row.seq - 1))
    if previous is None:
        bad("evidence chain", f"evidence seal {row.seq - 1} (the one before) is missing: a video statement was removed")
    elif evidence_digest(previous) != payload.get("prev"):
        bad("evidence chain", f"evidence seal {row.seq - 1} (attempt {previous.attempt_id}) is not the one this "
                              "follows: it was edited or replaced")


def _check_files(attempt_id: int, payload: dict, root: Path | None, bad, gone: list[GoneVideo],
                 released: dict[str, Released]) -> None:
    """Each sealed file against its size and digest (``root`` given, at the course), or as released;
    without ``root`` (the city) only what the releases say."""
    sealed_at = _parse_utc(payload.get("sealed_utc", ""))
    for s in sealed_segments(payload):
        where = f"video {s.camera} {s.file}"
        if s.sha256 is None:
            continue  # gone before it was sealed: the statement says so, nothing to check
        if root is not None:
            path = (root / s.file).resolve()
            if not path.is_relative_to(root.resolve()):
                bad(where, "the sealed file name points outside the recordings folder")
                continue
            if path.is_file():
                size = path.stat().st_size
                if s.bytes is not None and size != s.bytes:
                    bad(where, f"the file is {size} bytes, sealed {s.bytes} (truncated, extended or swapped)")
                elif sha256_file(path) != s.sha256:
                    bad(where, f"the file's SHA-256 is not the sealed {s.sha256[:16]}… (swapped or edited)")
                continue
        release = released.get(s.file)
        if release is None:
            if root is not None:
                bad(where, "the sealed segment file is missing, and no evidence release deleted it")
        elif not release.signed:
            bad(where, f"named as deleted by evidence release {release.release}, whose signature does not hold "
                       "(the release was edited or forged)")
        elif sealed_at is not None and release.deleted_utc < sealed_at:
            # The evidence retention takes only segments whose video is sealed.
            bad(where, f"released as deleted by retention on {utc_text(release.deleted_utc)}, before its video "
                       f"was sealed on {utc_text(sealed_at)}: the retention never deletes unsealed evidence")
        else:
            gone.append(GoneVideo(attempt_id, s.camera, s.file, release.deleted_utc))
