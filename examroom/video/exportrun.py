"""``python -m examroom.video.exportrun``: the child process that runs one export job.

The controller's export worker has already taken the job (its row says
``running``) and starts this module for it (``examroom.video.exportprocess``).
The child runs the job exactly as the worker thread used to
(``ExportQueue.run_job``: progress, file renamed when complete, ``done`` or
``failed`` with the reason), at a lower priority so the judge and the device
drivers come first. The database URL is read from the environment
(``EXAMROOM_EXPORT_DATABASE``).

Exit status: 0 once the job's outcome is in its row, 2 for a missing database
URL, 3 when the job is not ``running`` (nothing was done). Anything else (a
crash, a signal) leaves the row ``running`` for the worker to settle.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from examroom import courseclock
from examroom.video.exportprocess import DATABASE_ENV, NICENESS

log = logging.getLogger("examroom.video.exportrun")

PARENT_CHECK_SECONDS = 1.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m examroom.video.exportrun",
                                     description="run one export job the controller's worker has taken")
    parser.add_argument("--job", type=int, required=True)
    parser.add_argument("--recordings", type=Path, required=True, help="the recordings folder")
    parser.add_argument("--exports", type=Path, required=True, help="the exports folder")
    parser.add_argument("--parent", type=int, required=True, help="the controller's pid: end when it is gone")
    parser.add_argument("--nice", type=int, default=NICENESS, help="niceness to add to this process")
    parser.add_argument("--course", type=Path, help="course file (overlay exports)")
    parser.add_argument("--rules", type=Path, help="rule set file (overlay exports)")
    parser.add_argument("--province", type=Path, action="append", default=[], help="province override file")
    parser.add_argument("--timezone", default=courseclock.DEFAULT_ZONE, help="the course's zone for what people read")
    return parser


def end_with_parent(parent: int) -> None:
    """End this process (and its ffmpeg) once the controller has gone: its next start queues the job again."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        if os.getpgrp() == os.getpid():  # only a group of our own: never the group of whoever started us
            os.killpg(0, signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.nice(args.nice)  # before the imports below: loading PyAV and the judge already takes a core for a moment
    end_with_parent(args.parent)

    courseclock.use_zone(args.timezone)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = os.environ.get(DATABASE_ENV)
    if not url:
        log.error("no database URL in %s", DATABASE_ENV)
        return 2

    from examroom.records.database import make_engine, session_factory
    from examroom.records.models import ExportJobStatus
    from examroom.video.exportjobs import ExportQueue
    from examroom.video.index import VideoIndex

    engine = make_engine(url)
    try:
        sessions = session_factory(engine)
        index = VideoIndex(sessions)
        job = ExportQueue(sessions, index, args.recordings, args.exports).job(args.job)
        if job is None or job["status"] != ExportJobStatus.RUNNING.value:
            log.error("export %d is %s, not running: nothing to do", args.job, job and job["status"])
            return 3
        # The overlay maker loads the course and the rule set: made only for a job that burns them in.
        overlay = _overlay_exporter(sessions, args.course, args.rules, args.province) \
            if job["overlay"] and args.course and args.rules else None
        queue = ExportQueue(sessions, index, args.recordings, args.exports, overlay_export=overlay)
        log.info("export %d running in process %d at niceness %d", args.job, os.getpid(), os.nice(0))
        queue.run_job(args.job)
    finally:
        engine.dispose()
    return 0


def _overlay_exporter(sessions, course_file: Path, rule_set_file: Path, province_files: list[Path]):
    """The overlay maker the controller would use: the site's course and its effective rule set."""
    from examroom.records.attempt_log import Records
    from examroom.video.overlay_export import OverlayExporter
    from scoring.course import load_course
    from scoring.overrides import effective_ruleset, load_override_file
    from scoring.rules import load_ruleset

    provinces = tuple(load_override_file(path) for path in province_files)
    ruleset = effective_ruleset(load_ruleset(rule_set_file), provinces)
    return OverlayExporter(Records(sessions), load_course(course_file), ruleset)


def run() -> int:
    """``main`` whose failure ends with one line saying why: the worker puts that line in the job's row."""
    try:
        return main()
    except Exception as exc:
        log.exception("the export process failed")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: {type(exc).__name__}: {first}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(run())
