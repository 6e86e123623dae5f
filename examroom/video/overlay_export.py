"""The overlay version of an export: the attempt's facts burned into the picture, in Chinese.

Course, vehicle plate, candidate name, masked ID number, licence class, the
current item, speed, each deduction from the moment it happens, and the running
score. The facts come from the record, not from the live screen: the item
changes and running score from judging the attempt's journal again (the same
code that judged it live), speed from its poses, deductions from the stored
result. The copy export is made first; it is then decoded, drawn on and encoded
once with libx264 keeping every frame's time, and the chapters are added back.
"""

from __future__ import annotations

import bisect
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import av

from devices.camera.ffmpeg import ffmpeg_exe
from examroom import courseclock
from examroom.records.people import mask_id_number
from examroom.records.attempt_log import Records
from examroom.video.export import ExportError, ExportTimeline, chapters_metadata, export_copy, partial_path
from examroom.video.index import as_utc
from examroom.video.overlay import TextPatch
from scoring.course import Course
from scoring.events import EventKind
from scoring.judge import judge_for_start
from scoring.observations import Command, CommandAction, Pose, read_jsonl
from scoring.rules import RuleSet

# The item types as candidates know them (GA 1026 names).
ITEM_NAMES = {"pile": "桩考", "hill": "坡道定点停车和起步", "bridge": "通过单边桥"}


@dataclass
class AttemptFacts:
    header: list[str]
    items: list[tuple[datetime, str]] = field(default_factory=list)  # utc, item label ("" between items)
    speeds: list[tuple[datetime, float]] = field(default_factory=list)  # utc, km/h
    marks: list[tuple[datetime, str, int]] = field(default_factory=list)  # utc, deduction line, score after

    def lines_at(self, utc: datetime, start_score: int) -> list[str]:
        lines = list(self.header)
        item = _last_before(self.items, utc)
        speed = _last_before(self.speeds, utc)
        done = [m for m in self.marks if m[0] <= utc]
        score = done[-1][2] if done else start_score
        lines.append(f"项目 {item[1] if item and item[1] else '—'}   速度 {speed[1] if speed else 0:.1f} km/h   "
                     f"得分 {score}")
        lines += [m[1] for m in done[-4:]]
        lines.append(courseclock.local_text(utc, "%Y-%m-%d %H:%M:%S.%f")[:-3] + " " + courseclock.zone_note(utc))
        return lines


def _last_before(series: list, utc: datetime):
    keys = [s[0] for s in series]
    i = bisect.bisect_right(keys, utc) - 1
    return series[i] if i >= 0 else None


def attempt_facts(records: Records, course: Course, ruleset: RuleSet, attempt_id: int) -> AttemptFacts:
    attempt = records.attempt(attempt_id)
    if attempt is None:
        raise ExportError(f"unknown attempt {attempt_id}")
    candidate = attempt.candidate
    facts = AttemptFacts(header=[
        f"考场 {attempt.course}   车辆 {attempt.vehicle.plate}   准驾车型 {attempt.vehicle_class}",
        f"考生 {candidate.name}   身份证明 {mask_id_number(candidate.id_number)}",
    ])
    judge = None
    for obs in read_jsonl(records.journal_lines(attempt_id), source=f"attempt {attempt_id}"):
        if judge is None:
            if isinstance(obs, Command) and obs.action == CommandAction.START:
                judge = judge_for_start(course, ruleset, obs)
            else:
                continue
        if isinstance(obs, Pose):
            facts.speeds.append((as_utc(obs.utc), obs.speed * 3.6))
        for event in judge.feed(obs):
            if event.kind == EventKind.ITEM_STARTED:
                item = course.items.get(event.item)
                facts.items.append((as_utc(event.utc), ITEM_NAMES.get(item.type, item.id) if item else event.item))
            elif event.kind == EventKind.ITEM_FINISHED:
                facts.items.append((as_utc(event.utc), ""))
    score = ruleset.start_score
    for d in attempt.deductions:
        score = max(0, score - d.points)
        facts.marks.append((as_utc(d.utc), f"{'不合格' if d.disqualify else f'扣{d.points}分'} {d.title}", score))
    return facts


class OverlayExporter:
    """Makes overlay exports for the export queue (``ExportQueue.overlay_export``)."""

    def __init__(self, records: Records, course: Course, ruleset: RuleSet) -> None:
        self.records = records
        self.course = course
        self.ruleset = ruleset

    def __call__(self, queue, job: dict, timeline: ExportTimeline, out: Path, chapters, title: str,
                 progress) -> Path:
        facts = (attempt_facts(self.records, self.course, self.ruleset, job["attempt"])
                 if job["attempt"] is not None else AttemptFacts(header=[f"摄像机 {job['camera']}"]))
        out.parent.mkdir(parents=True, exist_ok=True)  # as export_copy does: the CLI may name a new folder
        with tempfile.TemporaryDirectory(prefix="overlay-") as tmp:
            copy = export_copy(queue.recordings_dir, timeline, Path(tmp) / "copy.mp4", [], title,
                               lambda share: progress(0.1 * share))
            drawn = Path(tmp) / "drawn.mp4"
            self._draw(copy, drawn, timeline, facts, lambda share: progress(0.1 + 0.85 * share))
            metadata = Path(tmp) / "chapters.txt"
            metadata.write_text(chapters_metadata(timeline, chapters, title), encoding="utf-8")
            partial = partial_path(out)
            done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-nostdin",
                                   "-i", str(drawn), "-i", str(metadata), "-map", "0:v", "-map_metadata", "1",
                                   "-map_chapters", "1", "-c", "copy", "-copyts", "-movflags", "+faststart",
                                   str(partial)], capture_output=True, text=True)
            if done.returncode != 0:
                raise ExportError(f"ffmpeg could not add chapters: {done.stderr.strip()[-300:]}")
            partial.replace(out)
        progress(1.0)
        return out

    def _draw(self, source: Path, target: Path, timeline: ExportTimeline, facts: AttemptFacts, progress) -> None:
        patch = TextPatch()
        start_score = self.ruleset.start_score
        with av.open(str(source)) as src, av.open(str(target), "w", options={"movflags": "+faststart"}) as dst:
            stream = src.streams.video[0]
            out = dst.add_stream("libx264", options={"preset": "ultrafast", "crf": "23"})
            out.width, out.height = stream.codec_context.width, stream.codec_context.height
            out.pix_fmt = "yuv420p"
            out.time_base = stream.time_base
            out.codec_context.time_base = stream.time_base
            for frame in src.decode(stream):
                image = frame.to_ndarray(format="bgr24")
                position = float(frame.pts * stream.time_base)
                # Below the time-code strip, so the picture's own time stays readable.
                patch.draw(image, facts.lines_at(timeline.utc_at(position), start_score), 4, 24)
                new = av.VideoFrame.from_ndarray(image, format="bgr24")
                new.pts, new.time_base = frame.pts, stream.time_base
                for packet in out.encode(new):
                    dst.mux(packet)
                if timeline.duration > 0:
                    progress(min(1.0, position / timeline.duration))
            for packet in out.encode():
                dst.mux(packet)
