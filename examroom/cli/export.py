"""``examroom export`` and ``examroom export-video``: a sitting's results for upload, a camera's footage.

``export`` writes a sitting's records in an upload format (JSON + CSV + checksums).
``export-video`` records the export as a job row like the controller's queue does and runs it
in this process, printing progress; the controller need not be running.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path


def add_parser(sub) -> None:
    upload = sub.add_parser("export", help="export a sitting's results for upload (JSON + CSV + checksums)")
    upload.add_argument("sitting", help="sitting code")
    upload.add_argument("--database", required=True, help="database URL")
    upload.add_argument("--out", type=Path, required=True, help="folder to write into")
    upload.add_argument("--format", default="national", help="exporter (default: national 科目二 record)")
    upload.set_defaults(run=run_upload)

    export = sub.add_parser("export-video", help="export a camera's footage of an attempt or a range as one MP4")
    export.add_argument("--settings", type=Path, required=True, help="site settings file with a [video] table")
    export.add_argument("--camera", required=True)
    what = export.add_mutually_exclusive_group(required=True)
    what.add_argument("--attempt", type=int, help="attempt id: its footage with the lead-in and tail")
    what.add_argument("--from", dest="start", help="range start, ISO 8601 UTC (with --to)")
    export.add_argument("--to", dest="end", help="range end, ISO 8601 UTC")
    export.add_argument("--overlay", action="store_true", help="burn in the attempt's facts in Chinese")
    export.set_defaults(run=run_video)


def _utc(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise ValueError(f"--{name}: not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def run_upload(args: argparse.Namespace) -> int:
    from examroom.cli.options import open_sessions
    from examroom.examday.upload_export import export_sitting

    files = export_sitting(open_sessions(args.database, migrate=False), args.sitting, args.out, args.format)
    for path in files:
        print(path)
    return 0


def run_video(args: argparse.Namespace) -> int:
    from examroom.records.database import claim_course, make_engine, session_factory, upgrade
    from examroom.records.models import ExportJobStatus
    from examroom.records.attempt_log import Records
    from examroom.site.settings import load_settings
    from examroom.video.exportjobs import ExportQueue
    from examroom.video.index import VideoIndex
    from examroom.video.overlay_export import OverlayExporter
    from scoring.course import load_course
    from scoring.rules import load_ruleset

    settings = load_settings(args.settings)
    video = settings.video
    if video is None:
        raise ValueError(f"{args.settings}: no [video] table, so no recordings to export")
    if args.camera not in {c.id for c in video.cameras}:
        raise ValueError(f"--camera: no camera {args.camera!r} in {args.settings} "
                         f"(known: {', '.join(c.id for c in video.cameras) or 'none'})")
    engine = make_engine(settings.database_url)
    upgrade(engine, settings.course_code)
    claim_course(engine, settings.course_code)
    sessions = session_factory(engine)
    queue = ExportQueue(sessions, VideoIndex(sessions), video.recordings_dir, video.exports_dir,
                        pre=video.evidence_pre, post=video.evidence_post)
    queue.overlay_export = OverlayExporter(Records(sessions), load_course(settings.course_file),
                                           load_ruleset(settings.rule_set_file))
    if args.attempt is not None:
        job_id = queue.request_attempt(args.attempt, args.camera, overlay=args.overlay)
    else:
        if not args.end:
            raise ValueError("--from needs --to")
        job_id = queue.request(args.camera, _utc(args.start, "from"), _utc(args.end, "to"), overlay=args.overlay)
    queue.claim(job_id)  # this process runs the job it just queued
    queue.run_job(job_id)
    job = queue.job(job_id)
    engine.dispose()
    if job["status"] != ExportJobStatus.DONE.value:
        print(f"examroom export-video: job {job_id} failed: {job['error']}", file=sys.stderr)
        return 1
    print(video.exports_dir / job["path"])
    return 0
