"""Cameras page and the live pictures behind sign-in.

The web process never opens a camera: the pictures are the controller's
live-view streams (``LIVE_VIDEO_URL``), which listen on the controller's
loopback only. Pages show them through this app
(``/cameras/<camera>/live.mjpg`` and ``.jpg``), so only signed-in staff watch
the course; alarms come from the database.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from flask import (Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from flask_login import current_user

from examroom.accounts.users import Role
from examroom.video.camera_names import CameraNameError, CameraNames
from examroom.video.index import VideoIndex
from examroom_web.cameras import bp
from examroom_web.cameras.relay import relay
from examroom_web.services import records
from examroom_web.security import STAFF, audit, roles

# A read of the controller's stream waits this long; a camera silent for longer makes the
# relay reconnect (web.cameras.relay), as a controller that went away does.
UPSTREAM_TIMEOUT = 10.0


def controller_cameras(base: str) -> tuple[list[dict], bool]:
    """The controller's cameras, with this app's URLs for their pictures, and whether the controller answered."""
    if not base:
        return [], True
    try:
        with urllib.request.urlopen(base, timeout=2) as response:
            cameras = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return [], False
    for camera in cameras:
        camera["src"] = url_for("cameras.live_stream", camera=camera["camera"])
    return cameras, True


def _open_upstream(camera: str, ext: str):
    """The controller's live-view response for a camera's ``.mjpg`` or ``.jpg``; aborts when there is none."""
    base = current_app.config.get("LIVE_VIDEO_URL", "")
    if not base:
        abort(404, description=_("本考场未配置摄像机"))
    url = f"{base.rstrip('/')}/{urllib.parse.quote(camera, safe='')}.{ext}"
    try:
        return urllib.request.urlopen(url, timeout=UPSTREAM_TIMEOUT)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 404:
            abort(404, description=_("没有这台摄像机"))
        abort(503, description=_("这台摄像机暂时没有画面"))
    except OSError:
        abort(503, description=_("无法连接考场控制器的实时画面"))


@bp.get("/cameras/<camera>/live.mjpg")
@roles(*STAFF)
def live_stream(camera: str):
    """The camera's MJPEG stream relayed as it arrives, across controller restarts, until the viewer leaves."""
    upstream = _open_upstream(camera, "mjpg")
    url = upstream.geturl()

    def reopen():
        try:
            return urllib.request.urlopen(url, timeout=UPSTREAM_TIMEOUT)
        except OSError:
            return None

    return Response(stream_with_context(relay(upstream, reopen)), content_type=upstream.headers["Content-Type"],
                    headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"})


@bp.get("/cameras/<camera>/live.jpg")
@roles(*STAFF)
def live_frame(camera: str):
    """The camera's newest frame."""
    with _open_upstream(camera, "jpg") as upstream:
        return Response(upstream.read(), content_type="image/jpeg", headers={"Cache-Control": "no-cache, no-store"})


@bp.app_context_processor
def video_alarm() -> dict:
    """The open disk alarm, for the banner every page shows while recording is stopped."""
    alarms = [e for e in VideoIndex(records().sessions).events(kind="disk_alarm") if e.end_utc is None]
    return {"video_alarm": alarms[-1] if alarms else None}


@bp.get("/cameras")
@roles(*STAFF)
def cameras():
    base = current_app.config.get("LIVE_VIDEO_URL", "")
    listed, reachable = controller_cameras(base)
    index = VideoIndex(records().sessions)
    gaps = [e for e in index.events(kind="gap") if e.end_utc is None]
    names = CameraNames(records().sessions).all()
    for camera in listed:  # the name people gave it, over the controller's title
        camera["title"] = names.get(camera["camera"]) or camera.get("title") or camera["camera"]
    # Every camera anyone may need to name: live ones, named ones, and those with recordings.
    known = sorted({c["camera"] for c in listed} | set(names) | set(index.cameras()))
    return render_template("cameras.html", cameras=listed, configured=bool(base), reachable=reachable, gaps=gaps,
                           names=[(c, names.get(c, "")) for c in known], can_name=current_user.role == Role.ADMIN)


@bp.get("/cameras.json")
@roles(*STAFF)
def cameras_json():
    """This course's live cameras with the names people gave them (the city console lists them so)."""
    listed, reachable = controller_cameras(current_app.config.get("LIVE_VIDEO_URL", ""))
    names = CameraNames(records().sessions).all()
    return jsonify({"reachable": reachable, "cameras": [
        {"camera": c["camera"], "title": names.get(c["camera"]) or c.get("title") or c["camera"]} for c in listed]})


@bp.post("/cameras/<camera>/name")
@roles(Role.ADMIN)
def rename(camera: str):
    """An administrator names a camera in Chinese (its id stays in logs and tooltips)."""
    try:
        title = CameraNames(records().sessions).rename(camera, request.form.get("title", ""),
                                                       current_user.account.username)
    except CameraNameError as exc:
        flash(_("摄像机 %(camera)s 未改名：%(why)s", camera=camera, why=str(exc)), "error")
    else:
        audit("rename_camera", f"camera {camera}", title)
        flash(_("摄像机已命名为“%(title)s”", title=title), "ok")
    return redirect(url_for("cameras.cameras"))
