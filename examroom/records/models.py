"""Database tables of the exam room (SQLAlchemy 2, declarative).

The schema is owned by Alembic migrations (``examroom/migrations``); these
classes describe it for the ORM and must change only together with a new
migration. Times are stored as UTC.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, ForeignKeyConstraint, Index, Integer, LargeBinary, String,
    Text, UniqueConstraint, func, select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class CourseKeyed:
    """A replicated row: its key begins with its course's 考场代码 (docs/city.md).

    Left unset, the session fills it (``records.database.CourseSession``); a course's session
    sees only its course's rows.
    """

    course_key: Mapped[str] = mapped_column(String(32), primary_key=True, sort_order=-1)


def local_id() -> Mapped[int]:
    """A row's number within its course (the second part of its key), counted by the database."""
    return mapped_column(Integer, primary_key=True, autoincrement=True)


def course_reference(columns: list[str], target: str, **options) -> ForeignKeyConstraint:
    """A reference to another replicated row: always one of the same course."""
    table, _, key = target.partition(".")
    return ForeignKeyConstraint(["course_key"] + columns, [f"{table}.course_key"] + [f"{table}.{key}"], **options)


class CourseIdentity(Base):
    """This database's course (one row); no row at the city, which holds every course's records."""

    __tablename__ = "course_identity"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.current_timestamp())


class AttemptStatus(str, enum.Enum):
    """Life of an attempt: checked in → running → one of the final states."""

    CHECKED_IN = "checked_in"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ABORTED = "aborted"
    DEVICE_FAULT = "device_fault"
    INTERRUPTED = "interrupted"  # the controller died mid-attempt; found on restart
    SUSPENDED = "suspended"  # 设备故障 while running: the supervisor resumes it or ends it (re-run)

    @property
    def final(self) -> bool:
        return self not in (AttemptStatus.CHECKED_IN, AttemptStatus.RUNNING, AttemptStatus.SUSPENDED)


class Candidate(CourseKeyed, Base):
    __tablename__ = "candidates"

    id: Mapped[int] = local_id()
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(32))  # 身份证明号码; masked on every screen
    exam_number: Mapped[str] = mapped_column(String(32))  # 准考证明编号, unique within the course
    vehicle_class: Mapped[str] = mapped_column(String(4))

    __table_args__ = (UniqueConstraint("course_key", "exam_number", name="candidates_exam_number_key"),)


class Vehicle(CourseKeyed, Base):
    """An exam vehicle of this course and the devices it carries."""

    __tablename__ = "vehicles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # "V1": the course's own name for it
    plate: Mapped[str] = mapped_column(String(32))
    vehicle_class: Mapped[str] = mapped_column(String(4))
    model: Mapped[str] = mapped_column(String(64))  # vehicle model id in the course file


class Attempt(CourseKeyed, Base):
    __tablename__ = "attempts"

    id: Mapped[int] = local_id()
    candidate_id: Mapped[int] = mapped_column(Integer)
    vehicle_id: Mapped[str] = mapped_column(String(32))
    vehicle_class: Mapped[str] = mapped_column(String(4))
    course: Mapped[str] = mapped_column(String(64))
    rule_set: Mapped[str] = mapped_column(String(255))  # the effective set's id, with its layers
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.CHECKED_IN.value)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it ended, when not by the judge
    checked_in_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the judge's full result
    # Exam day (migration 0004_examday): the booking this attempt serves and which try it is
    # (1 = 初考 of the sitting, 2 = the one 补考; re-runs after a device fault keep the number).
    booking_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    attempt_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The effective rule set that judged it (version + province + course overrides) and its
    # SHA-256, so a re-judge uses what applied that day (migration 0005_rulesets).
    rule_set_snapshot: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    rule_set_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The course it was driven on: the parsed course file and its SHA-256 (examroom.records.course_snapshot),
    # so a re-judge uses that course and says when today's file differs (migration 0010_seal_chain).
    course_snapshot: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    course_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    candidate: Mapped[Candidate] = relationship(overlaps="vehicle")
    vehicle: Mapped[Vehicle] = relationship(overlaps="candidate")
    deductions: Mapped[list["Deduction"]] = relationship(
        back_populates="attempt", order_by="Deduction.t", cascade="all, delete-orphan")

    __table_args__ = (Index("ix_attempts_status", "status"),
                      course_reference(["candidate_id"], "candidates.id"),
                      course_reference(["vehicle_id"], "vehicles.id"),
                      course_reference(["booking_id"], "bookings.id", name="fk_attempts_booking_id"))


class Deduction(CourseKeyed, Base):
    __tablename__ = "deductions"

    id: Mapped[int] = local_id()
    attempt_id: Mapped[int] = mapped_column(Integer, index=True)
    rule: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(128))
    points: Mapped[int] = mapped_column(Integer)
    disqualify: Mapped[bool] = mapped_column(Boolean, default=False)
    item: Mapped[str] = mapped_column(String(32))
    t: Mapped[float] = mapped_column(Float)
    utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    value: Mapped[str] = mapped_column(String(64), default="")

    attempt: Mapped[Attempt] = relationship(back_populates="deductions")

    __table_args__ = (course_reference(["attempt_id"], "attempts.id"),)


class JournalEntry(CourseKeyed, Base):
    """One observation of an attempt, in its JSON Lines form, in arrival order."""

    __tablename__ = "journal"

    # 64-bit on PostgreSQL (nine busy courses would pass 2**31 in months); SQLite's rowid is 64-bit.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    t: Mapped[float] = mapped_column(Float)
    utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    line: Mapped[str] = mapped_column(Text)
    # Hash chain (examroom.records.journal_chain): each row's hash covers its line and the previous hash.
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (UniqueConstraint("course_key", "attempt_id", "seq", name="uq_journal_attempt_seq"),
                      course_reference(["attempt_id"], "attempts.id"))


class User(Base):
    """A person who signs in: administrator, supervisor or auditor. Candidates have no account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))  # argon2id
    role: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(64), default="")  # the course or city an auditor may see
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginSession(Base):
    """A signed-in browser, kept on the server: the cookie carries only a random token, stored hashed.

    Signing out, a changed password or a disabled account deletes the rows, and the cookie stops working.
    """

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str] = mapped_column(String(64), default="")


class SignInThrottle(Base):
    """Failed sign-ins counted per address and per typed name, with the wait before the next try."""

    __tablename__ = "signin_throttles"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)  # "address:…" or "name:…"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(CourseKeyed, Base):
    """Who did what, when, from where. Append-only: triggers refuse updates and deletes,
    and each row carries the hash of the one before, so a removed row shows."""

    __tablename__ = "audit_log"

    id: Mapped[int] = local_id()
    utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Review(CourseKeyed, Base):
    """An auditor's mark on an attempt: reviewed, with a comment. Kept, never edited."""

    __tablename__ = "reviews"

    id: Mapped[int] = local_id()
    attempt_id: Mapped[int] = mapped_column(Integer, index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (course_reference(["attempt_id"], "attempts.id"),)



class SittingStatus(str, enum.Enum):
    PLANNED = "planned"
    OPEN = "open"  # check-in open
    RUNNING = "running"  # self-check passed: attempts may start
    CLOSED = "closed"


class Sitting(CourseKeyed, Base):
    """A 考试场次: a block of bookings examined between two times on one course."""

    __tablename__ = "sittings"

    id: Mapped[int] = local_id()
    code: Mapped[str] = mapped_column(String(32))  # 考试场次 as booked in 交管12123
    course_code: Mapped[str] = mapped_column(String(32), default="")  # 考场代码 as booked (the records' own: course_key)
    checkin_opens_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    starts_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default=SittingStatus.PLANNED.value)
    self_check: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (UniqueConstraint("course_key", "code", name="sittings_code_key"),)


class SittingLog(CourseKeyed, Base):
    """One scheduled phase of a sitting, done once: the unique key makes a second run a no-op."""

    __tablename__ = "sitting_log"

    id: Mapped[int] = local_id()
    sitting_id: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(16))
    utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (UniqueConstraint("course_key", "sitting_id", "phase", name="uq_sitting_log_phase"),
                      course_reference(["sitting_id"], "sittings.id"))


class BookingState(str, enum.Enum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"  # identity confirmed, photo taken: waiting to be called
    CALLED = "called"  # called up to a vehicle (叫号)
    ON_VEHICLE = "on_vehicle"  # an attempt is running
    DONE = "done"
    NO_SHOW = "no_show"  # 缺考


class BookingOutcome(str, enum.Enum):
    """What a booking came to when its sitting closed or its last attempt ended ("": not yet)."""

    PASSED = "passed"
    FAILED = "failed"  # failed its tries, or left after a try without passing
    NO_SHOW = "no_show"  # 缺考: never checked in
    NOT_EXAMINED = "not_examined"  # checked in but never judged before the sitting closed


class Booking(CourseKeyed, Base):
    """One roster row: a candidate booked into a sitting."""

    __tablename__ = "bookings"

    id: Mapped[int] = local_id()
    sitting_id: Mapped[int] = mapped_column(Integer, index=True)
    candidate_id: Mapped[int] = mapped_column(Integer)
    serial_number: Mapped[str] = mapped_column(String(32), default="")  # 流水号
    vehicle_class: Mapped[str] = mapped_column(String(4))
    school: Mapped[str] = mapped_column(String(128), default="")  # 驾校
    exam_reason: Mapped[str] = mapped_column(String(8), default="初考")  # 初考 / 补考
    state: Mapped[str] = mapped_column(String(16), default=BookingState.BOOKED.value)
    queue_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vehicle_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    called_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    checked_in_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmed_by: Mapped[str] = mapped_column(String(64), default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    photo_sha256: Mapped[str] = mapped_column(String(64), default="")
    tries: Mapped[int] = mapped_column(Integer, default=0)  # judged attempts used (at most 2)
    outcome: Mapped[str] = mapped_column(String(16), default="")  # a BookingOutcome value, "" until decided
    # Face identity (migration 0014_face_identity): the reference photo the check-in is compared with
    # (from the roster, or the first check-in's photo a supervisor confirmed against the ID card) and
    # its face descriptor (examroom.faces.verification), computed once. Personal data: deleted when
    # the retention ends (examroom.faces.personal_data), leaving the digests and the check-in
    # photo's size that seals name.
    reference_photo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    reference_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    reference_source: Mapped[str] = mapped_column(String(16), default="", server_default="")  # roster | checkin
    reference_confirmed_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    face_descriptor: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    face_model: Mapped[str] = mapped_column(String(32), default="", server_default="")
    photo_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    personal_data_deleted_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    candidate: Mapped[Candidate] = relationship(overlaps="sitting")
    sitting: Mapped[Sitting] = relationship(overlaps="candidate")

    __table_args__ = (UniqueConstraint("course_key", "sitting_id", "candidate_id", name="uq_booking_sitting_candidate"),
                      course_reference(["sitting_id"], "sittings.id"),
                      course_reference(["candidate_id"], "candidates.id"),
                      course_reference(["vehicle_id"], "vehicles.id"))


# The examiner of an attempt is the supervisor who confirmed its candidate at check-in (the
# upload export's 考试员1); None when the attempt has no booking. A read-only subquery, not a
# column: it loads with the attempt (so it is there after the session closes) without pulling
# the booking's photo along, and it can be filtered and grouped on.
Attempt.examiner = column_property(
    select(func.nullif(Booking.confirmed_by, ""))
    .where(Booking.course_key == Attempt.course_key, Booking.id == Attempt.booking_id)
    .correlate_except(Booking).scalar_subquery())


class Seal(CourseKeyed, Base):
    """The signed record of a finished attempt (examroom.records.sealing)."""

    __tablename__ = "seals"

    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Seals chain per course (``chain``: the course name; '' for the one chain of version-1 seals),
    # numbered 1, 2, ... within it (migration 0010_seal_chain); a course's chains are its own
    # (0013: the seal number is unique within (course_key, chain)).
    chain: Mapped[str] = mapped_column(String(64), default="")
    seq: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON that was signed
    signature: Mapped[str] = mapped_column(String(128))  # Ed25519, hex
    key_id: Mapped[str] = mapped_column(String(64))
    sealed_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    slip: Mapped[str | None] = mapped_column(Text, nullable=True)  # the signed slip token (examroom.records.slip_token)

    __table_args__ = (UniqueConstraint("course_key", "chain", "seq", name="uq_seals_chain_seq"),
                      course_reference(["attempt_id"], "attempts.id"))


class SealKey(CourseKeyed, Base):
    """A course's public key, kept beside the records so they verify offline."""

    __tablename__ = "seal_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_pem: Mapped[str] = mapped_column(Text)
    created_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EvidenceSeal(CourseKeyed, Base):
    """The course's signed statement of an attempt's video (examroom.records.evidence_seals).

    Written once the attempt's segments are filed: per camera, each segment's file name, times,
    size and SHA-256, bound to the attempt's seal by its digest. A table of its own (migration
    0017_evidence_seals), not a kind of seal: the attempt's seal is made when it ends, its video
    is filed later, and the seals' chain and payload versions stay as they were. Evidence seals
    chain among themselves per course (``seq``, and the digest of the one before in the payload),
    so removing one shows. Replicated; append-only.
    """

    __tablename__ = "evidence_seals"

    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON that was signed
    signature: Mapped[str] = mapped_column(String(128))  # Ed25519, hex
    key_id: Mapped[str] = mapped_column(String(64))
    sealed_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("course_key", "seq", name="uq_evidence_seals_seq"),
                      course_reference(["attempt_id"], "attempts.id"))


class EvidenceRelease(CourseKeyed, Base):
    """The course's signed statement that it deleted sealed video by its evidence retention.

    Written before the files are deleted (examroom.video.retention), naming each segment file with
    its digest and the attempts it was evidence of; replicated, append-only. ``examroom verify``
    reports a sealed file named here as gone by retention, not as missing (migration 0016).
    """

    __tablename__ = "evidence_releases"

    id: Mapped[int] = local_id()
    released_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON that was signed
    signature: Mapped[str] = mapped_column(String(128))  # Ed25519, hex
    key_id: Mapped[str] = mapped_column(String(64))


class Segment(Base):
    """One recorded MP4 segment of a camera, moved out of the cache into the dated tree."""

    __tablename__ = "video_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(255), unique=True)  # relative to the recordings folder
    start_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)  # bytes
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)  # evidence: retention never removes it
    # SHA-256 of the file as it was filed (migration 0017_evidence_seals); None: filed before.
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("ix_video_segments_camera_start", "camera", "start_utc"),)


class EvidenceLink(Base):
    """A segment that shows (part of) an attempt."""

    __tablename__ = "video_evidence"

    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # this course's attempt
    segment_id: Mapped[int] = mapped_column(ForeignKey("video_segments.id"), primary_key=True)


class VideoEvent(Base):
    """A timeline event of the video layer: a recording gap, a restart, a disk alarm."""

    __tablename__ = "video_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera: Mapped[str] = mapped_column(String(32))  # "" for events of the whole recorder (disk)
    # gap | restart | disk_alarm | retention (an evidence segment deleted by the evidence retention:
    # ``detail`` is its file name, start/end its times; examroom.video.retention)
    kind: Mapped[str] = mapped_column(String(16))
    start_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_video_events_camera_start", "camera", "start_utc"),)


class ExportJobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(Base):
    """A requested export; rows outlive the process so a restart finds unfinished jobs."""

    __tablename__ = "video_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera: Mapped[str] = mapped_column(String(32))
    attempt_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # this course's attempt
    start_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    overlay: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=ExportJobStatus.QUEUED.value)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    path: Mapped[str] = mapped_column(String(255), default="")  # relative to the exports folder
    error: Mapped[str] = mapped_column(Text, default="")
    created_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
class SittingCheck(CourseKeyed, Base):
    """A pre-sitting self-check (场地信号检测) and, when it failed, the override that let exams start."""

    __tablename__ = "sitting_checks"

    id: Mapped[int] = local_id()
    started_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    passed: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[dict] = mapped_column(JSON)  # devices and walk-round, as examroom.station.selfcheck reports them
    override_actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    override_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_sitting_checks_finished", "finished_utc"),)


class FaceFlag(Base):
    """A picture of the candidate that did not show exactly one face: for a supervisor to review."""

    __tablename__ = "face_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    # This course's booking or attempt (course-only table: no course key, docs/city.md).
    booking_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # check-in photo
    attempt_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # during a drive
    source: Mapped[str] = mapped_column(String(32))  # "checkin" or the camera name
    utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    faces: Mapped[int] = mapped_column(Integer)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    # The supervisor's or auditor's review (migration 0009_face_review); None: not reviewed yet.
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewed_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    review_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Why it was raised (migration 0014_face_identity): "faces" (not exactly one face) or "mismatch"
    # (a face unlike the booking's, with its distance); the JPEG's digest outlives its deletion.
    reason: Mapped[str] = mapped_column(String(16), default="faces", server_default="faces")
    distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    jpeg_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")

    __table_args__ = (Index("ix_face_flags_attempt_utc", "attempt_id", "utc"),)


class IdentityCheck(CourseKeyed, Base):
    """A 1:1 face comparison someone must see (examroom.faces.identity).

    ``kind`` "checkin": the check-in photo against the booking's reference, with the supervisor's
    decision when it was not a match (or when verification could not run); "in_cab": a run of
    ``frames`` in-cab samples unlike the booking's face during an attempt, for the auditor (the
    frames are face flags of the attempt). Sealed with the attempt; the picture is personal data
    and is deleted with the booking's, its digest stays.
    """

    __tablename__ = "identity_checks"

    # Replicated (keyed by its course) so the city rebuilds the sealed record; ``picture`` is
    # personal data and stays at the course (the publication leaves it out: docs/city.md).
    id: Mapped[int] = local_id()
    booking_id: Mapped[int] = mapped_column(Integer)
    attempt_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # checkin | in_cab
    source: Mapped[str] = mapped_column(String(32))  # "checkin" or the camera name
    utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # match | mismatch | cannot_tell | enrolled (first photo became the reference) | unavailable (no models)
    outcome: Mapped[str] = mapped_column(String(16))
    unclear: Mapped[str] = mapped_column(String(16), default="", server_default="")  # why cannot_tell
    distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    model: Mapped[str] = mapped_column(String(32), default="", server_default="")
    frames: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    picture: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    picture_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    decision: Mapped[str] = mapped_column(String(16), default="", server_default="")  # "" | accepted | refused
    decided_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    decided_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    # An in-cab run's frames by digest, in order (their pictures are the attempt's face flags).
    frame_sha256s: Mapped[list | None] = mapped_column(JSON, default=list, nullable=True)

    __table_args__ = (course_reference(["booking_id"], "bookings.id"),
                      course_reference(["attempt_id"], "attempts.id"),
                      Index("ix_identity_checks_booking", "course_key", "booking_id", "utc"),
                      Index("ix_identity_checks_attempt", "course_key", "attempt_id"))


class CameraName(Base):
    """The name people read for a camera (考场俯视, V2 车内); its id stays in logs and tooltips."""

    __tablename__ = "camera_names"

    camera: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    named_by: Mapped[str] = mapped_column(String(64))  # an administrator's username, or "site" (the site file)
    named_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The city's own tables (migration 0015_city_review): written only at the city, never replicated
# (no course_key column; the sampled attempt's course is ``course_code``). docs/city-sampling.md.
class CityDraw(Base):
    """One week's random review draw: the seed's commitment first, the seed and the sample after."""

    __tablename__ = "city_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), unique=True)  # ISO week "2026-W49" (China time)
    starts_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    commitment: Mapped[str] = mapped_column(String(64))
    committed_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seed: Mapped[str | None] = mapped_column(String(64), nullable=True)
    beacon: Mapped[str] = mapped_column(Text, default="", server_default="")
    revealed_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rules: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    populations: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class CitySample(Base):
    """An attempt a week's draw took for review, and why (the share, or a class always reviewed)."""

    __tablename__ = "city_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("city_draws.id"))
    course_code: Mapped[str] = mapped_column(String(32))
    attempt_id: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list] = mapped_column(JSON)
    ticket: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("draw_id", "course_code", "attempt_id", name="uq_city_samples_attempt"),)


class CityAssignment(Base):
    """A sampled attempt given to an inspector (append-only: a reassignment is a new row)."""

    __tablename__ = "city_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("city_samples.id"), index=True)
    inspector: Mapped[str] = mapped_column(String(64))
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CityReviewOutcome(Base):
    """An inspector's finding on a sampled attempt: 一致 / 存疑 / 判定有误, with notes. Append-only."""

    __tablename__ = "city_review_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("city_samples.id"), index=True)
    inspector: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CitySeenHead(Base):
    """A course's seal-chain head as the city saw it: a later head below it went backwards."""

    __tablename__ = "city_seen_heads"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_code: Mapped[str] = mapped_column(String(32))
    chain: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    seen_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_city_seen_heads_course_chain", "course_code", "chain", "seq"),)


# The city's verification of the replicated records (migration 0016_city_verification): city-only,
# not replicated, as the tables above. docs/city-warnings.md.
class CityCourseKey(Base):
    """A course's public seal key as the city registered it (``examroom city key``); append-only.

    The city verifies a course's seals against these keys alone, never against the ``seal_keys``
    rows the course's own database sends (a record re-sealed with a key put there is caught).
    """

    __tablename__ = "city_course_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_code: Mapped[str] = mapped_column(String(32), index=True)
    key_id: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the raw public key, hex
    public_pem: Mapped[str] = mapped_column(Text)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("course_code", "key_id", name="uq_city_course_keys_key"),)


class CityVerifiedSeal(Base):
    """A seal the city's verification pass checked: where each course's chain was verified up to.

    The digest is the seal's as it was when checked, so a seal gone or changed since is found.
    """

    __tablename__ = "city_verified_seals"

    course_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    result_id: Mapped[int] = mapped_column(ForeignKey("city_verify_results.id"))


class CityVerifiedEvidence(Base):
    """An evidence seal the city's verification pass checked (migration 0018): where each course's
    evidence chain was verified up to; the digest is the evidence seal's as it was when checked."""

    __tablename__ = "city_verified_evidence"

    course_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    result_id: Mapped[int] = mapped_column(ForeignKey("city_verify_results.id"))


class CityVerifiedRelease(Base):
    """An evidence release the city's verification pass checked (migration 0018): its digest then and
    the attempts it names, so a release gone or changed since is found with its attempts."""

    __tablename__ = "city_verified_releases"

    course_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    release_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[list] = mapped_column(JSON)
    ok: Mapped[bool] = mapped_column(Boolean)
    result_id: Mapped[int] = mapped_column(ForeignKey("city_verify_results.id"))


class CityVerifyResult(Base):
    """One verification of one course's chain: the seals checked and what was found; append-only.

    Written when a pass checked new seals or found a problem (a quiet pass writes nothing).
    ``problems``: [{"attempt": id or null, "where": ..., "message": ...}]; ``attempts``: the ids behind them.
    """

    __tablename__ = "city_verify_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_code: Mapped[str] = mapped_column(String(32))
    # "seals" (a seal chain), "evidence" (the evidence seals) or "releases" (evidence releases); 0018
    kind: Mapped[str] = mapped_column(String(16), default="seals", server_default="seals")
    chain: Mapped[str] = mapped_column(String(64))
    from_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: no new seal was checked
    to_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    checked: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[list] = mapped_column(JSON)
    attempts: Mapped[list] = mapped_column(JSON)
    started_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_city_verify_results_course_chain", "course_code", "chain", "id"),)
