"""Exports run in the background, one at a time, and survive a restart.

A request becomes a ``video_exports`` row (queued); one worker thread takes
the oldest queued job, runs it and keeps its progress in the row. A job found
``running`` when the controller starts was cut off by a restart: it is queued
again and redone from the start (a half-written file is never delivered; the
export is written under a temporary name and renamed when complete).

With an :class:`~examroom.video.exportprocess.ExportProcess` (the controller
always gives one) the worker thread only takes the job and runs it in a child
process at lower priority, which writes the progress and the outcome to the
row. Stopping the queue terminates the child and queues its job again; a child
that dies leaves its job ``failed`` with the reason, never ``running``.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom import courseclock
from examroom.records.models import Attempt, ExportJob, ExportJobStatus
from examroom.video.export import Chapter, ExportError, ExportTimeline, export_copy, partial_path
from examroom.video.exportprocess import TERMINATE_GRACE, ExportProcess, RunningExport
from examroom.video.index import VideoIndex, as_utc

log = logging.getLogger(__name__)

# Progress is written to the row at most this often (fraction of the job), to spare the database.
PROGRESS_STEP = 0.05

RESTARTED = "restarted: the controller stopped mid-export"
STOPPED = "stopped with the controller mid-export: queued to run again"


class ExportQueue:
    def __init__(self, sessions: sessionmaker[Session], index: VideoIndex, recordings_dir: Path,
                 exports_dir: Path, pre: float = 5.0, post: float = 5.0,
                 overlay_export: Callable | None = None,
                 now_utc: Callable[[], datetime] | None = None, process: ExportProcess | None = None) -> None:
        self._sessions = sessions
        self.index = index
        self.recordings_dir = Path(recordings_dir)
        self.exports_dir = Path(exports_dir)
        self.pre, self.post = pre, post
        self.overlay_export = overlay_export  # examroom.video.overlay.export_overlay, when available
        self.now_utc = now_utc or (lambda: datetime.now(timezone.utc))
        self.process = process  # when given, each job runs in a child process (examroom.video.exportprocess)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: RunningExport | None = None
        self._child_lock = threading.Lock()

    # -- requests -------------------------------------------------------------------
    def request(self, camera: str, start: datetime, end: datetime, attempt_id: int | None = None,
                overlay: bool = False) -> int:
        if end <= start:
            raise ExportError(f"export range ends ({end}) before it starts ({start})")
        with self._sessions.begin() as session:
            job = ExportJob(camera=camera, attempt_id=attempt_id, start_utc=start, end_utc=end, overlay=overlay,
                            status=ExportJobStatus.QUEUED.value, progress=0.0, path="", error="", created_utc=self.now_utc())
            session.add(job)
            session.flush()
            job_id = job.id
        self._wake.set()
        return job_id

    def request_attempt(self, attempt_id: int, camera: str, overlay: bool = False) -> int:
        with self._sessions() as session:
            attempt = session.get(Attempt, attempt_id)
            if attempt is None:
                raise ExportError(f"unknown attempt {attempt_id}")
            if attempt.started_utc is None or attempt.ended_utc is None:
                raise ExportError(f"attempt {attempt_id} has not finished; export it when it has")
            start, end = as_utc(attempt.started_utc), as_utc(attempt.ended_utc)
        return self.request(camera, start - timedelta(seconds=self.pre), end + timedelta(seconds=self.post),
                            attempt_id=attempt_id, overlay=overlay)

    def job(self, job_id: int) -> dict | None:
        with self._sessions() as session:
            job = session.get(ExportJob, job_id)
            return None if job is None else _as_dict(job)

    def jobs_of(self, attempt_id: int) -> list[dict]:
        """The exports requested of an attempt, oldest first."""
        with self._sessions() as session:
            return [_as_dict(job) for job in session.scalars(
                select(ExportJob).where(ExportJob.attempt_id == attempt_id).order_by(ExportJob.id))]

    def wait(self, job_id: int, timeout: float) -> dict | None:
        deadline = threading.Event()
        waited = 0.0
        while waited < timeout:
            job = self.job(job_id)
            if job is None or job["status"] in (ExportJobStatus.DONE.value, ExportJobStatus.FAILED.value):
                return job
            deadline.wait(0.1)
            waited += 0.1
        return self.job(job_id)

    # -- the worker -------------------------------------------------------------------
    def recover(self) -> int:
        """Queue again every job a restart cut off; returns how many."""
        with self._sessions.begin() as session:
            jobs = list(session.scalars(select(ExportJob).where(ExportJob.status == ExportJobStatus.RUNNING.value)))
            for job in jobs:
                job.status, job.progress, job.error = ExportJobStatus.QUEUED.value, 0.0, RESTARTED
            return len(jobs)

    def start(self) -> "ExportQueue":
        requeued = self.recover()
        if requeued:
            log.warning("exports: %d job(s) cut off by a restart queued again", requeued)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="exports", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the worker; a job running in a child process is cut off and queued again."""
        self._stop.set()
        self._wake.set()
        with self._child_lock:
            child = self._child
        if child is not None:
            child.terminate(TERMINATE_GRACE)
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    @property
    def child_pid(self) -> int | None:
        """The process running the current job, when jobs run in child processes."""
        with self._child_lock:
            return None if self._child is None else self._child.pid

    def _loop(self) -> None:
        while not self._stop.is_set():
            job_id = self._next()
            if job_id is None:
                self._wake.wait(2.0)
                self._wake.clear()
                continue
            try:
                if self.process is None:
                    self.run_job(job_id)
                else:
                    self.run_in_child(job_id)
            except Exception:  # the database went away mid-job, say: the worker must outlive it
                log.exception("export %d: the worker could not finish it", job_id)
                self._stop.wait(2.0)

    def _next(self) -> int | None:
        with self._sessions.begin() as session:
            job = session.scalars(select(ExportJob).where(ExportJob.status == ExportJobStatus.QUEUED.value)
                                  .order_by(ExportJob.id).limit(1)).first()
            if job is None:
                return None
            job.status = ExportJobStatus.RUNNING.value
            return job.id

    def claim(self, job_id: int) -> bool:
        """Take a queued job to run in the calling thread (the command line does)."""
        with self._sessions.begin() as session:
            job = session.get(ExportJob, job_id)
            if job is None or job.status != ExportJobStatus.QUEUED.value:
                return False
            job.status = ExportJobStatus.RUNNING.value
            return True

    def _update(self, job_id: int, **values) -> None:
        with self._sessions.begin() as session:
            job = session.get(ExportJob, job_id)
            for key, value in values.items():
                setattr(job, key, value)

    def run_in_child(self, job_id: int) -> None:
        """Run a taken job in a child process and settle it if the child could not."""
        try:
            child = self.process.start(job_id, self.recordings_dir, self.exports_dir)
        except OSError as exc:
            log.exception("export %d: the export process could not start", job_id)
            self._update(job_id, status=ExportJobStatus.FAILED.value, error=f"the export process could not start: {exc}"[:500],
                         finished_utc=self.now_utc())
            return
        with self._child_lock:
            self._child = child
        if self._stop.is_set():  # stop() came between taking the job and starting its process
            child.terminate(TERMINATE_GRACE)
        log.info("export %d running in process %d", job_id, child.pid)
        try:
            child.wait()
        finally:
            with self._child_lock:
                self._child = None
        try:
            self._settle(job_id, child)
        finally:
            child.close()

    def _settle(self, job_id: int, child: RunningExport) -> None:
        """A child that ended without writing the outcome: queue the job again if we stopped it, else fail it."""
        job = self.job(job_id)
        if job is None or job["status"] != ExportJobStatus.RUNNING.value:  # the child wrote done or failed itself
            if job is not None and job["status"] == ExportJobStatus.FAILED.value:
                log.warning("export %d failed in process %d:\n%s", job_id, child.pid, child.log_text())
            return
        partial_path(self.exports_dir / export_name(job)).unlink(missing_ok=True)
        if self._stop.is_set():
            log.warning("export %d stopped with the controller; it runs again after the restart", job_id)
            self._update(job_id, status=ExportJobStatus.QUEUED.value, progress=0.0, error=STOPPED)
            return
        reason = f"the export process {child.ending()}"
        log.error("export %d: %s\n%s", job_id, reason, child.log_text())
        self._update(job_id, status=ExportJobStatus.FAILED.value, error=reason[:500], finished_utc=self.now_utc())

    def run_job(self, job_id: int) -> None:
        job = self.job(job_id)
        last = [0.0]

        def progress(share: float) -> None:
            if share - last[0] >= PROGRESS_STEP or share >= 1.0:
                last[0] = share
                self._update(job_id, progress=round(share, 3))

        try:
            segments = self.index.segments(job["camera"], job["start_utc"], job["end_utc"])
            timeline = ExportTimeline(segments)
            chapters, title = self._chapters(job)
            name = export_name(job)
            out = self.exports_dir / name
            if job["overlay"]:
                if self.overlay_export is None:
                    raise ExportError("overlay exports are not available on this controller")
                self.overlay_export(self, job, timeline, out, chapters, title, progress)
            else:
                export_copy(self.recordings_dir, timeline, out, chapters, title, progress)
            self._update(job_id, status=ExportJobStatus.DONE.value, progress=1.0, path=name, error="", finished_utc=self.now_utc())
            log.info("export %d done: %s", job_id, out)
        except Exception as exc:  # the job fails with its reason; the worker goes on
            log.exception("export %d failed", job_id)
            self._update(job_id, status=ExportJobStatus.FAILED.value, error=str(exc)[:500], finished_utc=self.now_utc())

    def _chapters(self, job: dict) -> tuple[list[Chapter], str]:
        if job["attempt"] is None:
            return [], (f"{job['camera']} {courseclock.local_text(job['start_utc'])} "
                        f"{courseclock.zone_note(job['start_utc'])}")
        with self._sessions() as session:
            attempt = session.get(Attempt, job["attempt"])
            chapters = [Chapter(as_utc(d.utc), chapter_title(d)) for d in attempt.deductions]
            started = as_utc(attempt.started_utc) if attempt.started_utc else job["start_utc"]
            return chapters, (f"考试 {attempt.id} {job['camera']} {courseclock.local_text(started)} "
                              f"{courseclock.zone_note(started)}")


def chapter_title(deduction) -> str:
    """A deduction as a chapter a person reads: 不合格 for a disqualifying one, never 扣100分."""
    what = "不合格" if deduction.disqualify else f"扣{deduction.points}分"
    return f"{courseclock.local_text(deduction.utc, '%H:%M:%S')} {what} {deduction.title}"


def export_name(job: dict) -> str:
    """The finished file's name in the exports folder."""
    stamp = courseclock.file_stamp(job["start_utc"])  # the course's local time, offset included
    return f"{job['camera']}_{stamp}_{job['id']}{'_overlay' if job['overlay'] else ''}.mp4"


def _as_dict(job: ExportJob) -> dict:
    return {"id": job.id, "camera": job.camera, "attempt": job.attempt_id, "status": job.status,
            "progress": job.progress, "path": job.path, "error": job.error, "overlay": job.overlay,
            "start_utc": as_utc(job.start_utc), "end_utc": as_utc(job.end_utc)}
