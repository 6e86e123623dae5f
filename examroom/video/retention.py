"""Retention and the disk guard: what footage goes, and when recording must stop.

* Continuous (unpinned) footage older than ``days`` is deleted.
* When free space on the recordings disk is under ``floor_bytes``, the oldest
  unpinned segments go first, one by one, until the floor is met again.
* Evidence (pinned segments) is never deleted for space. If only evidence is left
  and the disk is still under the floor, recording stops and an alarm goes to
  the supervisor screen; recording resumes once space is back above the floor
  (an operator moved evidence away or added a disk).
* Evidence is deleted by age only where the site sets ``evidence_retention_days``
  (none by default: kept), only once the video of each of its attempts is sealed
  (examroom.video.evidence), and only after the course signed an evidence release
  naming the files (examroom.records.evidence_seals): the evidence seal stays, and
  ``examroom verify`` reports the video as gone by retention, not as missing.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from examroom.records.evidence_seals import ReleasedSegment
from examroom.video.index import SegmentInfo, VideoIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    days: float = 7.0  # continuous footage
    floor_bytes: int = 2 * 1024**3  # free space the recordings disk must keep
    evidence_days: float = 0.0  # sealed evidence; 0: kept until someone removes it


@dataclass
class RetentionReport:
    expired: int = 0
    evidence_expired: int = 0
    freed_for_space: int = 0
    free_bytes: int = 0
    alarm: bool = False


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


class RetentionGuard:
    def __init__(self, index: VideoIndex, recordings_dir: Path, policy: RetentionPolicy,
                 stop_recording: Callable[[], None], resume_recording: Callable[[], None],
                 publish: Callable[[dict], None] | None = None,
                 release: Callable[[list[ReleasedSegment], float, datetime], object] | None = None) -> None:
        self.index = index
        self.recordings_dir = Path(recordings_dir)
        self.policy = policy
        self.stop_recording = stop_recording
        self.resume_recording = resume_recording
        self.publish = publish or (lambda event: None)
        # Signs an evidence release (EvidenceSealer.release); without one, evidence is never deleted.
        self.release = release
        self.alarm = False

    def _delete(self, segment) -> None:
        (self.recordings_dir / segment.path).unlink(missing_ok=True)
        self.index.remove_segment(segment.id)
        self._prune(segment)

    def _delete_evidence(self, segment, now: datetime) -> None:
        (self.recordings_dir / segment.path).unlink(missing_ok=True)
        self.index.forget_deleted_evidence(segment, now)
        self._prune(segment)

    def _prune(self, segment) -> None:
        # Empty dated folders go too, so the tree does not fill with husks.
        folder = (self.recordings_dir / segment.path).parent
        while folder != self.recordings_dir and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent

    def _released(self, segments: list[SegmentInfo]) -> list[ReleasedSegment]:
        attempts = self.index.attempts_of([s.id for s in segments])
        return [ReleasedSegment(s.camera, s.path, s.size, s.sha256, attempts.get(s.id, ())) for s in segments]

    def run(self, now: datetime) -> RetentionReport:
        report = RetentionReport()
        for segment in self.index.oldest_unpinned(before=now - timedelta(days=self.policy.days), limit=10_000):
            self._delete(segment)
            report.expired += 1
        if self.policy.evidence_days > 0 and self.release is not None:
            expired = self.index.sealed_evidence_before(now - timedelta(days=self.policy.evidence_days))
            if expired:
                # Signed first, deleted after: a crash in between leaves files a release names, still there.
                self.release(self._released(expired), self.policy.evidence_days, now)
            for segment in expired:
                self._delete_evidence(segment, now)
                report.evidence_expired += 1
            if report.evidence_expired:
                log.warning("evidence retention: %d sealed evidence segment(s) older than %g days deleted; "
                            "their evidence seals stay", report.evidence_expired, self.policy.evidence_days)
        free = free_bytes(self.recordings_dir)
        while free < self.policy.floor_bytes:
            batch = self.index.oldest_unpinned(limit=20)
            if not batch:
                break
            for segment in batch:
                self._delete(segment)
                report.freed_for_space += 1
                free = free_bytes(self.recordings_dir)
                if free >= self.policy.floor_bytes:
                    break
        report.free_bytes = free
        if free < self.policy.floor_bytes:
            report.alarm = True
            if not self.alarm:
                self.alarm = True
                self.stop_recording()
                totals = self.index.totals()
                detail = (f"free {free / 1024**2:.1f} MB < floor {self.policy.floor_bytes / 1024**2:.1f} MB; "
                          f"evidence {totals['evidence'] / 1024**2:.1f} MB kept")
                self.index.open_event("", "disk_alarm", now, detail)
                log.error("disk guard: recording stopped: %s", detail)
                self.publish({"type": "video", "event": "disk_alarm", "utc": now.isoformat(),
                              "free_bytes": free, "floor_bytes": self.policy.floor_bytes,
                              "message": "录像磁盘空间不足：只剩考试证据录像，录像已停止，请转移证据或扩容"})
        elif self.alarm:
            self.alarm = False
            self.index.close_events("", "disk_alarm", now)
            self.resume_recording()
            self.publish({"type": "video", "event": "disk_ok", "utc": now.isoformat(), "free_bytes": free})
        if report.expired or report.freed_for_space:
            log.info("retention: %d expired, %d deleted for space; %.1f MB free", report.expired,
                     report.freed_for_space, free / 1024**2)
        return report
