"""Export a camera's footage over a time range as one MP4, by stream copy, with chapters.

The segments overlapping the range are joined with ffmpeg's concat demuxer
(``-c copy``: no re-encode, so the export is the recording, bit for bit).
Whole segments are taken — a copy can only begin on a keyframe, and every
segment starts on one. Gaps between segments collapse, as in a player, so
:class:`ExportTimeline` maps UTC times to positions in the file and back; one
chapter per deduction starts at the deduction's position.
"""

from __future__ import annotations

import bisect
import logging
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from devices.camera.ffmpeg import ffmpeg_exe
from examroom.video.index import SegmentInfo

log = logging.getLogger(__name__)


class ExportError(RuntimeError):
    """An export that cannot be made; the message says why."""


@dataclass(frozen=True)
class Chapter:
    utc: datetime
    title: str


class ExportTimeline:
    """Positions in an export of consecutive segments (gaps collapsed) and the UTC they show."""

    def __init__(self, segments: list[SegmentInfo]) -> None:
        if not segments:
            raise ExportError("no recorded segments in the range")
        self.segments = segments
        self.offsets: list[float] = []
        total = 0.0
        for segment in segments:
            self.offsets.append(total)
            total += segment.duration
        self.duration = total

    def position(self, utc: datetime) -> float:
        """Seconds into the export where ``utc`` is shown; a time in a gap maps to the next footage."""
        for segment, offset in zip(self.segments, self.offsets):
            if utc < segment.start_utc:
                return offset
            if utc < segment.end_utc:
                return offset + (utc - segment.start_utc).total_seconds()
        return self.duration

    def utc_at(self, position: float) -> datetime:
        i = max(0, bisect.bisect_right(self.offsets, position) - 1)
        return self.segments[i].start_utc + timedelta(seconds=position - self.offsets[i])


def _escape_metadata(text: str) -> str:
    for ch in ("\\", "=", ";", "#", "\n"):
        text = text.replace(ch, "\\" + ch)
    return text


LEAD_CHAPTER = "录像开始"  # the lead-in before the first mark


def chapters_metadata(timeline: ExportTimeline, chapters: list[Chapter], title: str) -> str:
    """An ffmetadata file: one chapter from each chapter's position to the next (or the end).

    MP4 keeps chapters as samples of a text track, which must start at 0: a
    first chapter starting later is moved to 0 by the muxer. So the file always
    opens with a lead-in chapter up to the first mark.
    """
    lines = [";FFMETADATA1", f"title={_escape_metadata(title)}"]
    marks = sorted((timeline.position(c.utc), c.title) for c in chapters)
    if not marks or marks[0][0] > 0.0005:
        marks.insert(0, (0.0, LEAD_CHAPTER))
    end_ms = round(timeline.duration * 1000)
    for i, (pos, name) in enumerate(marks):
        start = round(pos * 1000)
        end = round(marks[i + 1][0] * 1000) if i + 1 < len(marks) else end_ms
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={start}", f"END={max(end, start + 1)}",
                  f"title={_escape_metadata(name)}"]
    return "\n".join(lines) + "\n"


def partial_path(out: Path) -> Path:
    """Where ``out`` is written until it is complete, then renamed: a half-written file is never delivered."""
    return out.with_name(out.name + ".part.mp4")


def export_copy(recordings_dir: Path, timeline: ExportTimeline, out: Path, chapters: list[Chapter],
                title: str, progress: Callable[[float], None] | None = None) -> Path:
    """Join the timeline's segments into ``out`` by stream copy with chapters; returns ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="export-") as tmp:
        listing = Path(tmp) / "concat.txt"
        missing = [s.path for s in timeline.segments if not (recordings_dir / s.path).exists()]
        if missing:
            raise ExportError(f"segment files missing from the recordings folder: {', '.join(missing[:3])}")
        listing.write_text("ffconcat version 1.0\n" + "".join(
            f"file '{(recordings_dir / s.path).resolve()}'\nduration {s.duration:.6f}\n" for s in timeline.segments))
        metadata = Path(tmp) / "chapters.txt"
        metadata.write_text(chapters_metadata(timeline, chapters, title), encoding="utf-8")
        partial = partial_path(out)
        cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-nostdin",
               "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(metadata),
               "-map", "0:v", "-map_metadata", "1", "-map_chapters", "1", "-c", "copy", "-copyts",
               "-movflags", "+faststart", "-progress", "pipe:1", str(partial)]
        run_with_progress(cmd, timeline.duration, progress)
        partial.replace(out)
    return out


def run_with_progress(cmd: list[str], duration: float, progress: Callable[[float], None] | None) -> None:
    """Run ffmpeg with ``-progress pipe:1`` and report the share of ``duration`` done."""
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.isdigit() and progress and duration > 0:
            progress(min(1.0, int(value) / 1e6 / duration))
    err = process.stderr.read()
    if process.wait() != 0:
        raise ExportError(f"ffmpeg failed ({process.returncode}): {err.strip()[-400:]}")
    if progress:
        progress(1.0)
