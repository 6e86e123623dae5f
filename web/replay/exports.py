"""Export an attempt's footage from the replay page: request, progress, download.

The web process only records the request (a ``video_exports`` row, through
``ExportQueue.request``) and reads its progress back. The controller's export
worker (``VideoSystem.exports``, started with the controller) runs it, as the
controller runs every background job: a long ffmpeg/PyAV job never occupies a
web worker, and there is one worker for the table, so two processes never take
the same job. The row outlives both processes: a request made while the
controller restarts runs once it is back, and a job cut off is done again
(``ExportQueue.recover``). The finished file is served from the exports folder
the web process is given (``EXPORTS_DIR``, the controller's ``exports_dir``).

The clip is the attempt's evidence of one camera: from the start of its first
evidence segment to the end of its last, one chapter per deduction.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, jsonify, redirect, request, send_file, url_for
from flask_babel import gettext as _

from examroom.records.models import ExportJobStatus
from examroom.video.exportjobs import ExportQueue
from examroom.video.index import VideoIndex
from examroom_web.replay import bp
from examroom_web.replay.attempts import AUDITORS, attempt_or_404
from examroom_web.security import audit, roles
from examroom_web.services import records


def export_queue() -> ExportQueue | None:
    """The queue to add requests to, or None when this site keeps no recordings to export."""
    recordings, exports = current_app.config.get("RECORDINGS_DIR"), current_app.config.get("EXPORTS_DIR")
    if not recordings or not exports:
        return None
    sessions = records().sessions
    return ExportQueue(sessions, VideoIndex(sessions), Path(recordings), Path(exports))


def state_text(status: str) -> str:
    return {ExportJobStatus.QUEUED.value: _("排队中"), ExportJobStatus.RUNNING.value: _("导出中"),
            ExportJobStatus.DONE.value: _("已完成"), ExportJobStatus.FAILED.value: _("导出失败")}.get(status, status)


def job_json(attempt_id: int, job: dict) -> dict:
    done = job["status"] == ExportJobStatus.DONE.value
    return {"id": job["id"], "camera": job["camera"], "overlay": job["overlay"], "status": job["status"],
            "state": state_text(job["status"]), "progress": job["progress"],
            "error": job["error"] if job["status"] == ExportJobStatus.FAILED.value else "",
            "status_url": url_for("replay.export_status", attempt_id=attempt_id, job_id=job["id"]),
            "download": url_for("replay.export_file", attempt_id=attempt_id, job_id=job["id"]) if done else None}


def export_panel(attempt_id: int) -> dict | None:
    """What the replay page shows of exports: the cameras with footage and the jobs so far."""
    queue = export_queue()
    if queue is None:
        return None
    cameras = sorted({s.camera for s in queue.index.evidence(attempt_id)})
    return {"cameras": cameras, "jobs": [job_json(attempt_id, job) for job in queue.jobs_of(attempt_id)]}


def _queue_or_404() -> ExportQueue:
    queue = export_queue()
    if queue is None:
        abort(404, description=_("本考场未保存录像，无法导出视频"))
    return queue


def _job(queue: ExportQueue, attempt_id: int, job_id: int) -> dict:
    job = queue.job(job_id)
    if job is None or job["attempt"] != attempt_id:
        abort(404, description=_("没有这项视频导出"))
    return job


@bp.post("/<int:attempt_id>/exports")
@roles(*AUDITORS)
def export_request(attempt_id: int):
    attempt = attempt_or_404(attempt_id)
    queue = _queue_or_404()
    back = redirect(url_for("replay.replay", attempt_id=attempt_id))
    if attempt.ended_utc is None:
        flash(_("考试尚未结束，结束后才能导出视频"), "error")
        return back
    camera = request.form.get("camera", "")
    footage = queue.index.evidence(attempt_id, camera) if camera else []
    if not footage:
        flash(_("摄像机 %(camera)s 没有这场考试的录像", camera=camera), "error")
        return back
    overlay = request.form.get("overlay") == "1"
    job_id = queue.request(camera, footage[0].start_utc, footage[-1].end_utc, attempt_id=attempt_id,
                           overlay=overlay)
    audit("export_video", f"attempt {attempt_id}", f"job {job_id}, camera {camera}" + (", overlay" if overlay else ""))
    flash(_("已提交视频导出，完成后可下载"), "ok")
    return redirect(url_for("replay.replay", attempt_id=attempt_id, _anchor=f"export-{job_id}"))


@bp.get("/<int:attempt_id>/exports/<int:job_id>.json")
@roles(*AUDITORS)
def export_status(attempt_id: int, job_id: int):
    attempt_or_404(attempt_id)
    return jsonify(job_json(attempt_id, _job(_queue_or_404(), attempt_id, job_id)))


@bp.get("/<int:attempt_id>/exports/<int:job_id>.mp4")
@roles(*AUDITORS)
def export_file(attempt_id: int, job_id: int):
    attempt_or_404(attempt_id)
    queue = _queue_or_404()
    job = _job(queue, attempt_id, job_id)
    if job["status"] != ExportJobStatus.DONE.value:
        abort(404, description=_("视频导出尚未完成"))
    root = queue.exports_dir.resolve()
    path = (root / job["path"]).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        abort(404, description=_("导出的视频文件已不在导出目录中"))
    if "Range" not in request.headers:  # a player's range requests are the same download, audited once
        audit("download_export", f"attempt {attempt_id}", f"job {job_id}, {job['path']}")
    return send_file(path, mimetype="video/mp4", as_attachment=True, download_name=f"attempt{attempt_id}_{job['path']}",
                     conditional=True, max_age=0)
