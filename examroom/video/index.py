"""The video index in the database: segments, evidence links and video timeline events.

Like :mod:`examroom.records.attempt_log`, every write is one short transaction. SQLite
hands back naive datetimes for timezone-aware columns; :func:`as_utc` puts the
zone back so callers always compare aware UTC times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from examroom.courseclock import as_utc  # noqa: F401 - the video room's callers take it from here
from examroom.records.evidence_seals import RETENTION
from examroom.records.models import Attempt, EvidenceLink, EvidenceSeal, Seal, Segment, Vehicle, VideoEvent


@dataclass(frozen=True)
class SegmentInfo:
    id: int
    camera: str
    path: str
    start_utc: datetime
    end_utc: datetime
    duration: float
    size: int
    pinned: bool
    sha256: str | None = None  # of the file as filed (None: filed before digests were kept)

    @classmethod
    def of(cls, row: Segment) -> "SegmentInfo":
        return cls(row.id, row.camera, row.path, as_utc(row.start_utc), as_utc(row.end_utc), row.duration,
                   row.size, row.pinned, row.sha256)


def _video_sealed():
    """The attempt (of the query) has an evidence seal."""
    return exists().where(EvidenceSeal.course_key == Attempt.course_key, EvidenceSeal.attempt_id == Attempt.id)


@dataclass(frozen=True)
class AttemptSpan:
    """An attempt to link evidence to: when it ran, on which vehicle of which class."""

    id: int
    started: datetime
    ended: datetime | None
    vehicle: str
    vehicle_class: str


@dataclass(frozen=True)
class EventInfo:
    id: int
    camera: str
    kind: str
    start_utc: datetime
    end_utc: datetime | None
    detail: str


class VideoIndex:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- segments -----------------------------------------------------------------
    def add_segment(self, camera: str, path: str, start: datetime, end: datetime, duration: float,
                    size: int, sha256: str | None = None) -> SegmentInfo:
        with self._sessions.begin() as session:
            row = Segment(camera=camera, path=path, start_utc=start, end_utc=end, duration=duration, size=size,
                          pinned=False, sha256=sha256)
            session.add(row)
            session.flush()
            return SegmentInfo.of(row)

    def segments(self, camera: str, start: datetime, end: datetime) -> list[SegmentInfo]:
        """Segments of a camera that overlap [start, end], oldest first."""
        with self._sessions() as session:
            rows = session.scalars(select(Segment).where(
                Segment.camera == camera, Segment.end_utc > start, Segment.start_utc < end,
            ).order_by(Segment.start_utc))
            return [SegmentInfo.of(r) for r in rows]

    def cameras(self) -> list[str]:
        """Every camera with footage in the index."""
        with self._sessions() as session:
            return sorted(session.scalars(select(Segment.camera).distinct()))

    def all_segments(self, camera: str | None = None) -> list[SegmentInfo]:
        with self._sessions() as session:
            query = select(Segment).order_by(Segment.start_utc)
            if camera is not None:
                query = query.where(Segment.camera == camera)
            return [SegmentInfo.of(r) for r in session.scalars(query)]

    def last_segment(self, camera: str) -> SegmentInfo | None:
        with self._sessions() as session:
            row = session.scalars(select(Segment).where(Segment.camera == camera)
                                  .order_by(Segment.end_utc.desc()).limit(1)).first()
            return SegmentInfo.of(row) if row else None

    def oldest_unpinned(self, before: datetime | None = None, limit: int = 50) -> list[SegmentInfo]:
        with self._sessions() as session:
            query = select(Segment).where(Segment.pinned.is_(False))
            if before is not None:
                query = query.where(Segment.end_utc < before)
            rows = session.scalars(query.order_by(Segment.start_utc).limit(limit))
            return [SegmentInfo.of(r) for r in rows]

    def remove_segment(self, segment_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(Segment).where(Segment.id == segment_id, Segment.pinned.is_(False)))

    def totals(self) -> dict[str, int]:
        """Bytes of footage kept, split into evidence (pinned) and continuous."""
        with self._sessions() as session:
            rows = session.execute(select(Segment.pinned, func.coalesce(func.sum(Segment.size), 0))
                                   .group_by(Segment.pinned)).all()
        totals = {"evidence": 0, "continuous": 0}
        for pinned, size in rows:
            totals["evidence" if pinned else "continuous"] += int(size)
        return totals

    # -- evidence -----------------------------------------------------------------
    def link_evidence(self, attempt_id: int, cameras: list[str], start: datetime, end: datetime) -> int:
        """Link and pin every segment of ``cameras`` overlapping [start, end]; returns new links."""
        added = 0
        with self._sessions.begin() as session:
            rows = session.scalars(select(Segment).where(
                Segment.camera.in_(cameras), Segment.end_utc > start, Segment.start_utc < end))
            have = set(session.scalars(select(EvidenceLink.segment_id).where(EvidenceLink.attempt_id == attempt_id)))
            for row in rows:
                row.pinned = True
                if row.id not in have:
                    session.add(EvidenceLink(attempt_id=attempt_id, segment_id=row.id))
                    added += 1
        return added

    def evidence(self, attempt_id: int, camera: str | None = None) -> list[SegmentInfo]:
        with self._sessions() as session:
            query = (select(Segment).join(EvidenceLink, EvidenceLink.segment_id == Segment.id)
                     .where(EvidenceLink.attempt_id == attempt_id).order_by(Segment.camera, Segment.start_utc))
            if camera is not None:
                query = query.where(Segment.camera == camera)
            return [SegmentInfo.of(r) for r in session.scalars(query)]

    def attempts_to_link(self, since: datetime) -> list[AttemptSpan]:
        """Attempts started and not ended before ``since``, with their vehicle and its class; an
        attempt whose video is sealed is closed: nothing more is linked to it."""
        with self._sessions() as session:
            rows = session.execute(
                select(Attempt.id, Attempt.started_utc, Attempt.ended_utc, Attempt.vehicle_id, Vehicle.vehicle_class)
                .join(Vehicle, Vehicle.id == Attempt.vehicle_id, isouter=True)
                .where(Attempt.started_utc.is_not(None), or_(Attempt.ended_utc.is_(None), Attempt.ended_utc > since))
                .where(~_video_sealed()))
            return [AttemptSpan(i, as_utc(s), as_utc(e), v or "", c or "") for i, s, e, v, c in rows]

    # -- evidence seals (examroom.video.evidence.seal_filed_evidence) ------------------
    def attempts_to_seal(self, since: datetime) -> list[AttemptSpan]:
        """Sealed, ended attempts whose video is not sealed yet: those with evidence linked, and
        those that ended after ``since`` (a camera that filed nothing of them is sealed as such)."""
        with self._sessions() as session:
            linked = exists().where(EvidenceLink.attempt_id == Attempt.id)
            rows = session.execute(
                select(Attempt.id, Attempt.started_utc, Attempt.ended_utc, Attempt.vehicle_id, Vehicle.vehicle_class)
                .join(Vehicle, Vehicle.id == Attempt.vehicle_id, isouter=True)
                .join(Seal, and_(Seal.course_key == Attempt.course_key, Seal.attempt_id == Attempt.id))
                .where(Attempt.started_utc.is_not(None), Attempt.ended_utc.is_not(None))
                .where(or_(linked, Attempt.ended_utc > since), ~_video_sealed())
                .order_by(Attempt.ended_utc, Attempt.id))
            return [AttemptSpan(i, as_utc(s), as_utc(e), v or "", c or "") for i, s, e, v, c in rows]

    def sealed_evidence_before(self, before: datetime, limit: int = 200) -> list[SegmentInfo]:
        """Evidence segments that ended before ``before`` and whose every attempt has its video
        sealed: what the evidence retention may delete (the statement of them stays)."""
        with self._sessions() as session:
            unsealed_link = (select(EvidenceLink.segment_id)
                             .join(Attempt, Attempt.id == EvidenceLink.attempt_id)
                             .where(~_video_sealed()))
            rows = session.scalars(
                select(Segment).where(Segment.pinned.is_(True), Segment.end_utc < before,
                                      Segment.id.in_(select(EvidenceLink.segment_id)),
                                      Segment.id.not_in(unsealed_link))
                .order_by(Segment.start_utc).limit(limit))
            return [SegmentInfo.of(r) for r in rows]

    def forget_deleted_evidence(self, segment: SegmentInfo, utc: datetime) -> None:
        """The evidence retention deleted this segment's file (its signed release says so): its links and
        row go, and a ``retention`` event keeps its file name and times on the course's video timeline."""
        with self._sessions.begin() as session:
            session.add(VideoEvent(camera=segment.camera, kind=RETENTION, start_utc=segment.start_utc,
                                   end_utc=utc, detail=segment.path))
            session.execute(delete(EvidenceLink).where(EvidenceLink.segment_id == segment.id))
            session.execute(delete(Segment).where(Segment.id == segment.id))

    def attempts_of(self, segment_ids: list[int]) -> dict[int, tuple[int, ...]]:
        """The attempts each segment is evidence of."""
        found: dict[int, list[int]] = {}
        with self._sessions() as session:
            for segment, attempt in session.execute(
                    select(EvidenceLink.segment_id, EvidenceLink.attempt_id)
                    .where(EvidenceLink.segment_id.in_(segment_ids)).order_by(EvidenceLink.attempt_id)):
                found.setdefault(segment, []).append(attempt)
        return {segment: tuple(attempts) for segment, attempts in found.items()}

    # -- timeline events ------------------------------------------------------------
    def open_event(self, camera: str, kind: str, start: datetime, detail: str = "") -> int:
        with self._sessions.begin() as session:
            row = VideoEvent(camera=camera, kind=kind, start_utc=start, end_utc=None, detail=detail)
            session.add(row)
            session.flush()
            return row.id

    def close_events(self, camera: str, kind: str, end: datetime) -> list[int]:
        """Close every open event of this kind for the camera at ``end``."""
        with self._sessions.begin() as session:
            rows = list(session.scalars(select(VideoEvent).where(
                VideoEvent.camera == camera, VideoEvent.kind == kind, VideoEvent.end_utc.is_(None))))
            for row in rows:
                row.end_utc = max(end, as_utc(row.start_utc))
            return [r.id for r in rows]

    def move_event_start(self, event_id: int, start: datetime) -> None:
        with self._sessions.begin() as session:
            row = session.get(VideoEvent, event_id)
            if row is not None and (row.end_utc is None or as_utc(row.end_utc) >= start):
                row.start_utc = start

    def events(self, camera: str | None = None, kind: str | None = None) -> list[EventInfo]:
        with self._sessions() as session:
            query = select(VideoEvent).order_by(VideoEvent.start_utc, VideoEvent.id)
            if camera is not None:
                query = query.where(VideoEvent.camera == camera)
            if kind is not None:
                query = query.where(VideoEvent.kind == kind)
            return [EventInfo(r.id, r.camera, r.kind, as_utc(r.start_utc), as_utc(r.end_utc), r.detail)
                    for r in session.scalars(query)]
