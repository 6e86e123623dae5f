"""Export time for a 10-minute attempt: stream copy with chapters, and the Chinese overlay version.

Sixty 10 s H.264 segments (ffmpeg testsrc2, x264, time code burned in by our
own stamp is not needed here) are indexed as one camera's recording of a
10-minute attempt with five deductions; the export queue then runs the copy
export and, with ``--overlay``, the overlay export (decode, draw, x264 encode).

With ``--jitter`` it then measures what an overlay export costs the controller:
a 20 Hz thread in this process stands for the judge and the device drivers (a
bit of Python work each tick) and records how late each tick ends, with no
export, with the overlay export on the queue's worker thread (as it ran before)
and with it in a child process at nice 10 (as the controller runs it now).

    python bench/video_export.py --minutes 10 --overlay
    python bench/video_export.py --minutes 2 --jitter
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.camera.ffmpeg import ffmpeg_exe  # noqa: E402
from examroom.records.database import make_engine, session_factory, upgrade  # noqa: E402
from examroom.records.attempt_log import CandidateInfo, Records  # noqa: E402
from examroom.simulation.scenarios import DEMO_COURSE_PATH  # noqa: E402
from examroom.video.exportjobs import ExportQueue  # noqa: E402
from examroom.video.exportprocess import ExportProcess  # noqa: E402
from examroom.video.index import VideoIndex  # noqa: E402
from examroom.video.overlay_export import OverlayExporter  # noqa: E402
from examroom.video.segments import tree_path  # noqa: E402
from tests.examroom.video.footage import probe  # noqa: E402
from scoring.course import load_course  # noqa: E402
from scoring.rules import default_ruleset_path, load_ruleset  # noqa: E402

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)
TICK_HZ = 20
IDLE_SECONDS = 5.0


class Ticker:
    """A 20 Hz thread like the controller's: each tick does a little Python work; how late does it end?"""

    def __init__(self, hz: int = TICK_HZ) -> None:
        self.period = 1.0 / hz
        self.late: list[float] = []  # seconds past the tick's moment when its work was done
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ticker", daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        tick = 0
        while not self._stop.is_set():
            tick += 1
            due = start + tick * self.period
            time.sleep(max(0.0, due - time.monotonic()))
            sum(i * i for i in range(2000))  # about what parsing a burst of sentences costs
            self.late.append(time.monotonic() - due)

    def __enter__(self) -> "Ticker":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        late = sorted(self.late)
        p99 = late[min(len(late) - 1, int(0.99 * len(late)))]
        return (f"{len(late)} ticks, late by median {statistics.median(late) * 1000:.1f} ms, "
                f"p99 {p99 * 1000:.1f} ms, max {late[-1] * 1000:.1f} ms")


def measure_jitter(queue: ExportQueue, attempt: int, process: ExportProcess) -> None:
    """The ticker's lateness with no export, an overlay export in a thread, and one in a child process."""
    with Ticker() as idle:
        time.sleep(IDLE_SECONDS)
    print(f"20 Hz controller thread, no export: {idle.summary()}")
    for mode, runner in (("worker thread", None), ("child process (nice 10)", process)):
        queue.process = runner
        job = queue.request_attempt(attempt, "gate", overlay=True)
        with Ticker() as ticker:
            t, cpu = time.monotonic(), time.process_time()
            queue.start()
            done = queue.wait(job, 3600)
            took, cpu = time.monotonic() - t, time.process_time() - cpu
            queue.stop()
        print(f"20 Hz controller thread, overlay export in a {mode} ({done['status']} in {took:.1f} s, "
              f"{cpu:.1f} s CPU in the controller process): {ticker.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", default="704x576")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--overlay", action="store_true")
    parser.add_argument("--jitter", action="store_true",
                        help="measure a 20 Hz thread's lateness during an overlay export, in a thread and in a process")
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
        database_url = f"sqlite:///{tmp / 'db.sqlite3'}"
        engine = make_engine(database_url)
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
        from examroom.records.models import AttemptStatus

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
        if args.jitter:
            measure_jitter(queue, attempt, ExportProcess(database_url, DEMO_COURSE_PATH, default_ruleset_path()))


if __name__ == "__main__":
    main()
