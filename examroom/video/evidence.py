"""Attempt evidence: the segments that show an attempt, linked to it, pinned, and sealed.

An attempt's evidence runs from a few seconds before its start to a few
seconds after its end on the recording cameras that show it: its own vehicle's
(in-cab, chase) and the course cameras that see the items its class drives
(examroom.video.placement); never another vehicle's. Linking is idempotent and
repeated while the attempt runs and for a while after it ends, so segments are
pinned as soon as they reach the index — retention can never take one first.

Once every camera that serves a sealed attempt has filed a segment reaching past
its evidence window (or the window for linking has closed: a camera that died
files nothing more), the course signs the attempt's video: per camera, each
segment's file name, times, size and SHA-256 (examroom.records.evidence_seals).
The pass that does it looks for every sealed attempt whose video is not sealed
yet, so a crash between filing and sealing is made good by the next pass.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable

from examroom.records.evidence_seals import EvidenceSealer, SealedSegment, sha256_file
from examroom.records.sealing import utc_text
from examroom.video.index import SegmentInfo, VideoIndex
from examroom.video.placement import CameraPlace, cameras_for

log = logging.getLogger(__name__)

PRE_SECONDS = 5.0
POST_SECONDS = 5.0
# Segments close up to one segment length after the attempt ends; keep linking that long, and more.
LINK_WINDOW = timedelta(minutes=10)
# Attempts sealed per pass: a course upgraded with weeks of evidence works its backlog off a little
# at a time (each file of an old segment is hashed once) instead of holding the job for minutes.
SEAL_BATCH = 5


def link_attempts(index: VideoIndex, cameras: list[str], now: datetime, pre: float = PRE_SECONDS,
                  post: float = POST_SECONDS, places: dict[str, CameraPlace] | None = None,
                  items_for_class: Callable[[str], Iterable[str]] | None = None) -> int:
    """Link every running or recently ended attempt to its cameras' segments; returns new links."""
    added = 0
    for span in index.attempts_to_link(now - LINK_WINDOW):
        end = (span.ended or now) + timedelta(seconds=post)
        items = items_for_class(span.vehicle_class) if items_for_class else None
        own = cameras_for(cameras, places or {}, span.vehicle, items)
        if own:
            added += index.link_evidence(span.id, own, span.started - timedelta(seconds=pre), end)
    return added


def seal_filed_evidence(index: VideoIndex, sealer: EvidenceSealer, recordings_dir: Path, cameras: list[str],
                        now: datetime, pre: float = PRE_SECONDS, post: float = POST_SECONDS,
                        places: dict[str, CameraPlace] | None = None,
                        items_for_class: Callable[[str], Iterable[str]] | None = None,
                        limit: int = SEAL_BATCH) -> list[int]:
    """Seal the video of every sealed attempt whose segments are all filed; returns the attempts sealed."""
    done = []
    for span in index.attempts_to_seal(now - 2 * LINK_WINDOW):
        if len(done) >= limit:
            break
        start, end = span.started - timedelta(seconds=pre), span.ended + timedelta(seconds=post)
        items = items_for_class(span.vehicle_class) if items_for_class else None
        expected = cameras_for(cameras, places or {}, span.vehicle, items)
        linked = index.evidence(span.id)
        serving = sorted(set(expected) | {s.camera for s in linked})
        if not serving:
            continue  # no camera serves it: there is no video to state
        closed = now >= end + LINK_WINDOW  # nothing is linked to it after this any more
        if not closed and not all(_filed_past(index, camera, end) for camera in serving):
            continue
        if expected:  # the last segments filed since the last linking pass
            index.link_evidence(span.id, expected, start, end)
            linked = index.evidence(span.id)
        try:
            statement = {camera: [_sealed(recordings_dir, s) for s in linked if s.camera == camera]
                         for camera in serving}
            sealer.seal(span.id, statement, (start, end), now)
        except Exception:  # one attempt's failure (an unreadable file) must not stop the others'
            log.exception("cannot seal the video of attempt %d; tried again next pass", span.id)
            continue
        done.append(span.id)
        log.info("video of attempt %d sealed: %s", span.id,
                 ", ".join(f"{c} {len(v)} segment(s)" for c, v in statement.items()))
    return done


def _filed_past(index: VideoIndex, camera: str, moment: datetime) -> bool:
    last = index.last_segment(camera)
    return last is not None and last.end_utc >= moment


def _sealed(recordings_dir: Path, segment: SegmentInfo) -> SealedSegment:
    size, digest = segment.size, segment.sha256
    if digest is None:  # filed before digests were kept: hashed now, if the file is still there
        path = Path(recordings_dir) / segment.path
        if path.is_file():
            size, digest = path.stat().st_size, sha256_file(path)
    return SealedSegment(segment.camera, segment.id, segment.path, utc_text(segment.start_utc),
                         utc_text(segment.end_utc), size, digest)
