"""Export time for a 10-minute attempt: stream copy with chapters, and the Chinese overlay version.

Sixty 10 s H.264 segments (ffmpeg testsrc2, x264, time code burned in by our
own stamp is not needed here) are indexed as one camera's recording of a
10-minute attempt with five deductions; the export queue then runs the copy
export and, with ``--overlay``, the overlay export (decode, draw, x264 encode).

    python bench/video_export.py --minutes 10 --overlay
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.camera.ffmpeg import ffmpeg_exe  # noqa: E402
from examroom.database import make_engine, session_factory, upgrade  # noqa: E402
from examroom.records import CandidateInfo, Records  # noqa: E402
from examroom.simulation.scenarios import DEMO_COURSE_PATH  # noqa: E402
from examroom.video.exportjobs import ExportQueue  # noqa: E402
from examroom.video.index import VideoIndex  # noqa: E402
from examroom.video.overlay_export import OverlayExporter  # noqa: E402
from examroom.video.segments import probe, tree_path  # noqa: E402
from scoring.course import load_course  # noqa: E402
from scoring.rules import default_ruleset_path, load_ruleset  # noqa: E402

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", default="704x576")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--overlay", action="store_true")
    args = parser.parse_args()
    seconds = int(args.minutes * 60)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        raw = tmp / "raw"
        raw.mkdir()
        t = time.monotonic()
        subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                        f"testsrc2=size={args.size}:rate={args.fps}", "-t", str(seconds + 20), "-c:v", "libx264",
                        "-preset", "ultrafast", "-g", str(2 * args.fps), "-f", "segment", "-segment_time", "10",
                        "-reset_timestamps", "1", "-segment_format_options", "movflags=+faststart",
                        str(raw / "seg%04d.mp4")], check=True)
        print(f"made {seconds + 20} s of {args.size} {args.fps} fps H.264 in {time.monotonic() - t:.1f} s")
        engine = make_engine(f"sqlite:///{tmp / 'db.sqlite3'}")
        upgrade(engine)
        sessions = session_factory(engine)
        index, records = VideoIndex(sessions), Records(sessions)
        recordings = tmp / "recordings"
        start = T0
        for path in sorted(raw.glob("seg*.mp4")):
            duration = probe(path).duration
            relative = tree_path("gate", start)
            (recordings / relative).parent.mkdir(parents=True, exist_ok=True)
            path.replace(recordings / relative)
            index.add_segment("gate", relative, start, start + timedelta(seconds=duration), duration,
                              (recordings / relative).stat().st_size)
            start += timedelta(seconds=duration)
        records.ensure_vehicle("V1", "甘K·3071学", "C4", "C4-01")
        candidate = records.ensure_candidate(CandidateInfo("张伟", "621202198001011234", "621200000001", "C4"))
        attempt = records.check_in(candidate, "V1", "demo", "ga1026-2022", T0 + timedelta(seconds=10))
        records.mark_running(attempt, T0 + timedelta(seconds=10))
        for i in range(5):
            records.add_deduction(attempt, {"rule": "hill.stop_offset_minor", "code": "90301", "title": "停车距离不准",
                                            "points": 10, "disqualify": False, "item": "hill",
                                            "t": 60.0 * (i + 1), "utc": (T0 + timedelta(seconds=60 * (i + 1) + 7.3))
                                            .isoformat().replace("+00:00", "Z"), "value": ""})
        from examroom.models import AttemptStatus

        records.finish(attempt, AttemptStatus.FAILED, T0 + timedelta(seconds=10 + seconds))
        course = load_course(DEMO_COURSE_PATH)
        queue = ExportQueue(sessions, index, recordings, tmp / "exports", pre=5, post=5)
        queue.overlay_export = OverlayExporter(records, course, load_ruleset(default_ruleset_path()))
        kinds = [False, True] if args.overlay else [False]
        for overlay in kinds:
            job = queue.request_attempt(attempt, "gate", overlay=overlay)
            queue.claim(job)
            t = time.monotonic()
            queue.run_job(job)
            took = time.monotonic() - t
            done = queue.job(job)
            size = (tmp / "exports" / done["path"]).stat().st_size / 1024**2 if done["path"] else 0
            print(f"{'overlay' if overlay else 'copy'} export of a {args.minutes:g}-minute attempt "
                  f"({args.size} {args.fps} fps): {done['status']} in {took:.1f} s "
                  f"({seconds / took:.0f}x real time), {size:.1f} MB {done['error']}")


if __name__ == "__main__":
    main()
