"""An attempt's evidence video on the replay's time axis, and the segment files themselves.

The replay cursor runs on the journal's clock ``t``; footage is filed by UTC.
The journal's ``start`` command carries both, so ``utc = start.utc + (t - start.t)``.
Segments are indexed by the UTC of the picture: the recorder adds the camera's
calibrated offset when it files a segment (``examroom.video.segments``), so the
page maps a moment to (segment, seconds into it) by walking the segments, as
Frigate does, without adding the offset a second time.

Segment files are served read-only from the recordings folder the video
settings name (``RECORDINGS_DIR``), with Range support so the browser can seek,
and only those linked to the attempt as its evidence.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Iterable

from flask import abort, current_app, jsonify, send_file, session, url_for
from flask_login import current_user

from examroom.video.index import SegmentInfo, VideoIndex, as_utc
from scoring.observations import Command, CommandAction, Pose, read_jsonl
from examroom_web.filters import camera_title
from examroom_web.replay import bp
from examroom_web.replay.attempts import attempt_or_404
from examroom_web.security import CANDIDATE_SESSION_KEY, STAFF, public, roles
from examroom_web.services import records


def clock_anchor(lines: Iterable[str]) -> tuple[float, datetime] | None:
    """(t, utc) of the journal's start command (or, lacking one, its first pose)."""
    first_pose = None
    for obs in read_jsonl(lines, "journal"):
        if isinstance(obs, Command) and obs.action == CommandAction.START:
            return obs.t, obs.utc
        if isinstance(obs, Pose) and first_pose is None:
            first_pose = (obs.t, obs.utc)
    return first_pose


def _epoch(moment: datetime) -> float:
    return round(moment.timestamp(), 3)


def _segment_json(attempt_id: int, segment: SegmentInfo) -> dict:
    return {"id": segment.id, "start": _epoch(segment.start_utc), "end": _epoch(segment.end_utc),
            "duration": segment.duration,
            "url": url_for("replay.segment_file", attempt_id=attempt_id, segment_id=segment.id)}


@bp.get("/<int:attempt_id>/video.json")
@roles(*STAFF)
def video(attempt_id: int):
    attempt_or_404(attempt_id)
    anchor = clock_anchor(records().journal_lines(attempt_id))
    cameras: dict[str, list[dict]] = {}
    for segment in VideoIndex(records().sessions).evidence(attempt_id):
        cameras.setdefault(segment.camera, []).append(_segment_json(attempt_id, segment))
    return jsonify(anchor_t=anchor[0] if anchor else None, anchor_utc=_epoch(anchor[1]) if anchor else None,
                   cameras=[{"camera": c, "label": camera_title(c), "segments": s} for c, s in sorted(cameras.items())],
                   served=bool(current_app.config.get("RECORDINGS_DIR")))


def _linked_segment(attempt_id: int, segment_id: int) -> SegmentInfo:
    found = [s for s in VideoIndex(records().sessions).evidence(attempt_id) if s.id == segment_id]
    if not found:
        abort(404)
    return found[0]


def send_segment(attempt_id: int, segment_id: int):
    """The segment's MP4 (Range requests answered), if it is evidence of the attempt."""
    folder = current_app.config.get("RECORDINGS_DIR")
    if not folder:
        abort(404)
    segment = _linked_segment(attempt_id, segment_id)
    root = Path(folder).resolve()
    path = (root / segment.path).resolve()
    if not path.is_relative_to(root) or not path.is_file():  # the index never names a file outside
        abort(404)
    return send_file(path, mimetype="video/mp4", conditional=True, max_age=0)


def clips_of(attempt) -> dict[int, list[tuple[str, str]]]:
    """Per deduction id: (camera, link to the evidence segment showing it, seeked by a media fragment)."""
    if not current_app.config.get("RECORDINGS_DIR"):
        return {}
    segments = VideoIndex(records().sessions).evidence(attempt.id)
    clips: dict[int, list[tuple[str, str]]] = {}
    for deduction in attempt.deductions:
        moment = as_utc(deduction.utc)
        for segment in segments:
            if segment.start_utc <= moment < segment.end_utc:
                at = (moment - segment.start_utc).total_seconds()
                url = url_for("replay.segment_file", attempt_id=attempt.id, segment_id=segment.id)
                clips.setdefault(deduction.id, []).append((segment.camera, f"{url}#t={at:.2f}"))
    return clips


@bp.get("/<int:attempt_id>/video/<int:segment_id>.mp4")
@public  # staff, or the candidate whose attempt it is (candidate portal session); checked below
def segment_file(attempt_id: int, segment_id: int):

    if current_user.is_authenticated and current_user.role in STAFF:
        attempt_or_404(attempt_id)
    else:
        found = records().attempt(attempt_id)
        candidate = session.get(CANDIDATE_SESSION_KEY)
        if found is None or candidate is None or found.candidate_id != candidate:
            abort(404)  # the candidate portal's answer: the same for someone else's attempt and for none
    return send_segment(attempt_id, segment_id)
