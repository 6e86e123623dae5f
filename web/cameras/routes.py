"""Cameras page. The web process never opens a camera: the pictures are the controller's
live-view streams (``LIVE_VIDEO_URL``), linked from the page; alarms come from the database."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from flask import current_app, render_template

from examroom.video.index import VideoIndex
from web.cameras import bp
from web.services import records
from web.security import STAFF, roles


def _cameras(base: str) -> tuple[list[dict], bool]:
    """The controller's cameras, and whether the controller answered."""
    if not base:
        return [], True
    try:
        with urllib.request.urlopen(base, timeout=2) as response:
            cameras = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return [], False
    for camera in cameras:
        camera["src"] = base.rstrip("/") + "/" + camera["mjpeg"].removeprefix("/live/")
    return cameras, True


@bp.app_context_processor
def video_alarm() -> dict:
    """The open disk alarm, for the banner every page shows while recording is stopped."""
    alarms = [e for e in VideoIndex(records().sessions).events(kind="disk_alarm") if e.end_utc is None]
    return {"video_alarm": alarms[-1] if alarms else None}


@bp.get("/cameras")
@roles(*STAFF)
def cameras():
    base = current_app.config.get("LIVE_VIDEO_URL", "")
    listed, reachable = _cameras(base)
    index = VideoIndex(records().sessions)
    gaps = [e for e in index.events(kind="gap") if e.end_utc is None]
    return render_template("cameras.html", cameras=listed, configured=bool(base), reachable=reachable, gaps=gaps)
