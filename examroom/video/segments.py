"""Segments from the cache into the dated tree: checked, moved, indexed.

ffmpeg lists a segment in its run's ``list.csv`` once the segment is closed.
The maintainer probes each listed segment (it must open, have a duration and
decode a frame; one whose first frame is not at 0 s is copied once more so that
it is, because a browser seeks on the file's own axis), turns its stream times
into UTC (``run.json`` plus the camera's offset), moves it to ``recordings/YYYY-MM-DD/HH/<camera>/MM.SS.mp4``
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
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import av

from devices.camera.ffmpeg import ffmpeg_exe
from examroom.courseclock import as_utc
from examroom.records.evidence_seals import sha256_file
from examroom.video.index import SegmentInfo, VideoIndex
from examroom.video.recorder import LIST_NAME, RUN_NAME

log = logging.getLogger(__name__)


# A segment whose first frame is stamped later than this is not on its own time axis (see rebase).
MAX_START_SECONDS = 0.5


@dataclass(frozen=True)
class Probe:
    duration: float
    frames_ok: bool
    start: float = 0.0  # presentation time of the first frame, seconds


def probe(path: Path) -> Probe | None:
    """Duration of an MP4, its start time and whether its first frame decodes; None if it cannot be opened."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000
            start = container.start_time / 1_000_000 if container.start_time is not None else 0.0
            decoded = False
            for frame in container.decode(stream):
                decoded = frame.width > 0
                break
            return Probe(duration or 0.0, decoded, start)
    except (av.FFmpegError, IndexError, OSError):
        return None


def rebase(path: Path) -> None:
    """Rewrite a segment by stream copy so that its first frame is at 0 s.

    ffmpeg's segment muxer resets each segment's timestamps except the first
    one's: the first segment of a stream-copy run keeps the wall-clock stamps
    (about 1.8e9 s), and a browser asked to seek 3 s into it stays at its first
    frame. Copying it once more, without ``-copyts``, starts it at zero.
    """
    rebased = path.with_name(path.stem + ".rebased.mp4")
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(path), "-map", "0:v:0",
                    "-c", "copy", "-movflags", "+faststart", str(rebased)], check=True, capture_output=True)
    os.replace(rebased, path)


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
            for name, _start, end in self._listed(run_dir):
                path = run_dir / name
                if path.exists():
                    info = self._take(run, path, float(run["origin"]) + end)
                    if info is not None:
                        added.append(info)
        if ended:
            shutil.rmtree(run_dir, ignore_errors=True)
        return added

    @staticmethod
    def _listed(run_dir: Path) -> list[tuple[str, float, float]]:
        try:
            with open(run_dir / LIST_NAME, newline="") as f:
                return [(row[0], float(row[1]), float(row[2])) for row in csv.reader(f) if len(row) >= 3]
        except FileNotFoundError:
            return []

    def _take(self, run: dict, path: Path, end_epoch: float) -> SegmentInfo | None:
        camera = run["camera"]
        checked = probe(path)
        if checked is None or not checked.frames_ok or checked.duration <= 0:
            log.warning("segment %s of %s does not decode; dropped", path.name, camera)
            self.rejected += 1
            path.unlink(missing_ok=True)
            return None
        if abs(checked.start) > MAX_START_SECONDS:
            try:
                rebase(path)
            except (subprocess.CalledProcessError, OSError) as exc:
                log.error("segment %s of %s: cannot rebase its times to zero (%s); kept as recorded",
                          path.name, camera, exc)
        end = datetime.fromtimestamp(end_epoch, timezone.utc) + timedelta(seconds=float(run.get("offset", 0.0)))
        start = end - timedelta(seconds=checked.duration)
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
        info = self.index.add_segment(camera, relative, start, end, checked.duration, size, digest)
        if self.on_segment is not None:
            self.on_segment(info, path.parent)
        return info
