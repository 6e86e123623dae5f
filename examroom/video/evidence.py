"""Attempt evidence: the segments that show an attempt, linked to it and pinned.

An attempt's evidence runs from a few seconds before its start to a few
seconds after its end on the recording cameras that show it: its own vehicle's
(in-cab, chase) and the course cameras that see the items its class drives
(examroom.video.placement); never another vehicle's. Linking is idempotent and
repeated while the attempt runs and for a while after it ends, so segments are
pinned as soon as they reach the index — retention can never take one first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable

from examroom.video.index import VideoIndex
from examroom.video.placement import CameraPlace, cameras_for

PRE_SECONDS = 5.0
POST_SECONDS = 5.0
# Segments close up to one segment length after the attempt ends; keep linking that long, and more.
LINK_WINDOW = timedelta(minutes=10)


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
