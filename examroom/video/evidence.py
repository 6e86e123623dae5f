"""Attempt evidence: the segments that show an attempt, linked to it and pinned.

An attempt's evidence runs from a few seconds before its start to a few
seconds after its end on every recording camera. Linking is idempotent and
repeated while the attempt runs and for a while after it ends, so segments are
pinned as soon as they reach the index — retention can never take one first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from examroom.video.index import VideoIndex

PRE_SECONDS = 5.0
POST_SECONDS = 5.0
# Segments close up to one segment length after the attempt ends; keep linking that long, and more.
LINK_WINDOW = timedelta(minutes=10)


def link_attempts(index: VideoIndex, cameras: list[str], now: datetime, pre: float = PRE_SECONDS,
                  post: float = POST_SECONDS) -> int:
    """Link every running or recently ended attempt to its cameras' segments; returns new links."""
    added = 0
    for attempt_id, started, ended in index.attempts_to_link(now - LINK_WINDOW):
        end = (ended or now) + timedelta(seconds=post)
        added += index.link_evidence(attempt_id, cameras, started - timedelta(seconds=pre), end)
    return added
