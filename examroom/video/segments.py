"""Segments from the cache into the dated tree: checked, moved, indexed.

ffmpeg lists a segment in its run's ``list.csv`` once the segment is closed,
with the stream times of its start and end. The maintainer checks each listed
segment (it must open, decode its first frame and last a while; a stream-copy
run's first segment, whose first frame is not at 0 s, is copied once more so
that it is, because a browser seeks on the file's own axis), turns its stream
times into UTC (``run.json`` plus the camera's offset), moves it to ``recordings/YYYY-MM-DD/HH/<camera>/MM.SS.mp4``
(UTC) and adds its row with the file's SHA-256. A segment that fails the check is deleted and so
becomes part of a recording gap. A run whose process has ended is cleared away
once its listed segments are handled; unlisted files left by a crash are the
lost tail of that run.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import cv2

from devices.camera.capture import DECODER_THREADS
from devices.camera.ffmpeg import ffmpeg_exe
from examroom.courseclock import as_utc
from examroom.records.evidence_seals import sha256_file
from examroom.video.index import SegmentInfo, VideoIndex
from examroom.video.recorder import LIST_NAME, RUN_NAME, segment_output

log = logging.getLogger(__name__)

# The rebase's copy of a segment is one segment: longer than any a recorder closes.
WHOLE_SECONDS = 1_000_000


def first_frame_decodes(path: Path) -> bool:
    """Whether the file opens as video and its first frame decodes.

    Read with OpenCV's FFmpeg, which the controller has mapped for its camera
    readers anyway: PyAV would add its own copy of FFmpeg's libraries to the
    process for this one check.
    """
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, DECODER_THREADS])
    try:
        if not capture.isOpened():
            return False
        # From the file's start: with the live readers' capture options (fflags nobuffer, process-wide
        # once a network reader opened, devices.camera.capture) the packets read while probing are
        # dropped, and a segment of one keyframe interval (a run's short last one) gave no frame.
        capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        ok, image = capture.read()
        return bool(ok) and image is not None and image.size > 0
    finally:
        capture.release()


def rebase(path: Path) -> float:
    """Rewrite a segment by stream copy so that its first frame is at 0 s; returns its duration.

    ffmpeg's segment muxer resets each segment's timestamps except the first
    one's: the first segment of a stream-copy run keeps the wall-clock stamps
    (about 1.8e9 s), and a browser asked to seek 3 s into it stays at its first
    frame. Copying it once more, without ``-copyts``, starts it at zero. The
    list does not tell how long that segment lasts (it lists it from 0 s), so
    the copy goes through the segment muxer too, as one segment: its own list
    does.
    """
    work = path.with_name(path.stem + ".rebase")
    shutil.rmtree(work, ignore_errors=True)  # a pass that died half-way
    work.mkdir()
    try:
        subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(path),
                        "-map", "0:v:0", "-c", "copy", *segment_output(work, WHOLE_SECONDS)],
                       check=True, capture_output=True)
        listed = listed_segments(work)
        if len(listed) != 1:
            raise OSError(f"the copy of {path.name} came out as {len(listed)} segments")
        name, start, end = listed[0]
        os.replace(work / name, path)
        return end - start
    finally:
        shutil.rmtree(work, ignore_errors=True)


def listed_segments(run_dir: Path) -> list[tuple[str, float, float]]:
    """The segments ffmpeg listed as closed in ``run_dir``: (file name, start, end stream times)."""
    try:
        with open(run_dir / LIST_NAME, newline="") as f:
            return [(row[0], float(row[1]), float(row[2])) for row in csv.reader(f) if len(row) >= 3]
    except FileNotFoundError:
        return []


def tree_path(camera: str, start: datetime) -> str:
    """Where a segment starting at ``start`` (UTC) lives, relative to the recordings folder."""
    start = as_utc(start)
    return f"{start:%Y-%m-%d}/{start:%H}/{camera}/{start:%M.%S}.mp4"


class SegmentMaintainer:
    """Moves finished segments of every camera from the cache into the recordings tree."""

    def __init__(self, cache_dir: Path, recordings_dir: Path, index: VideoIndex,
                 active_runs: Callable[[], set[Path]],
                 on_segment: Callable[[SegmentInfo, Path], None] | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.recordings_dir = Path(recordings_dir)
        self.index = index
        self.active_runs = active_runs
        self.on_segment = on_segment
        self.rejected = 0
        self._lock = threading.Lock()  # the scheduler and a stopping service may both call run()

    def run(self) -> list[SegmentInfo]:
        """One pass over the cache; returns the segments added."""
        with self._lock:
            added: list[SegmentInfo] = []
            active = {p.resolve() for p in self.active_runs()}
            for run_dir in sorted(self.cache_dir.glob("*/run-*")):
                added += self._run_dir(run_dir, ended=run_dir.resolve() not in active)
            return added

    def _run_dir(self, run_dir: Path, ended: bool) -> list[SegmentInfo]:
        added = []
        try:
            run = json.loads((run_dir / RUN_NAME).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            run = None
        if run is not None:
            for n, (name, start, end) in enumerate(listed_segments(run_dir)):
                path = run_dir / name
                if path.exists():
                    # Only a stream-copy run's first segment keeps the stream's own (wall-clock)
                    # times; the segment muxer starts each later one, and an encoded run's first, at 0.
                    first_copied = n == 0 and run.get("mode") == "copy"
                    info = self._take(run, path, start, end, first_copied)
                    if info is not None:
                        added.append(info)
        if ended:
            shutil.rmtree(run_dir, ignore_errors=True)
        return added

    def _take(self, run: dict, path: Path, start: float, end: float, first_copied: bool) -> SegmentInfo | None:
        """File one listed segment; ``start``, ``end``: its stream times from the list."""
        camera = run["camera"]
        if not first_frame_decodes(path):
            log.warning("segment %s of %s does not decode; dropped", path.name, camera)
            self.rejected += 1
            path.unlink(missing_ok=True)
            return None
        if first_copied:
            try:
                duration = rebase(path)
            except (subprocess.CalledProcessError, OSError) as exc:
                # A full cache, say: the segment stays and is tried at the next pass, as after a
                # failed move (if its run has ended, it goes with the run's folder, as that one does).
                log.error("segment %s of %s: cannot rebase its times to zero (%s)", path.name, camera, exc)
                return None
        else:
            # The muxer's own times: the first packet's and the next segment's first packet's (or,
            # for a run's last segment, the end of its last frame), which is what the file lasts.
            duration = end - start
        if duration <= 0:
            log.warning("segment %s of %s lasts %.3f s; dropped", path.name, camera, duration)
            self.rejected += 1
            path.unlink(missing_ok=True)
            return None
        end_utc = datetime.fromtimestamp(float(run["origin"]) + end, timezone.utc) \
            + timedelta(seconds=float(run.get("offset", 0.0)))
        start = end_utc - timedelta(seconds=duration)
        relative = tree_path(camera, start)
        target = self.recordings_dir / relative
        n = 1
        while target.exists():  # two runs can both start a segment within one second
            relative = tree_path(camera, start)[:-4] + f"-{n}.mp4"
            target = self.recordings_dir / relative
            n += 1
        size = path.stat().st_size
        # The digest of the file as filed: the evidence seal states it (examroom.video.evidence), so a
        # file changed between filing and sealing shows too. Read from the cache (a tmpfs), once.
        digest = sha256_file(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target))
        except OSError as exc:
            # The disk is full or failing: the segment stays in the cache and is tried again.
            log.error("cannot move segment %s of %s to %s: %s", path.name, camera, target, exc)
            target.unlink(missing_ok=True)
            return None
        info = self.index.add_segment(camera, relative, start, end_utc, duration, size, digest)
        if self.on_segment is not None:
            self.on_segment(info, path.parent)
        return info
