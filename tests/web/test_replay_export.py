"""Export the clip from the auditor's replay: a queued job, its progress, the MP4 with its chapters.

The footage is the attempt's evidence as ``test_replay_video`` files it (every
frame stamped with the moment it shows). The web app only queues the request;
an :class:`ExportQueue` worker started here stands for the controller's
(``VideoSystem.exports``), on the same database and exports folder, and runs
each job in a child process as the controller does.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from werkzeug.serving import make_server

from examroom.accounts.users import Role
from examroom.accounts.audit import AuditLog
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.video import timecode
from examroom.video.exportjobs import ExportQueue
from examroom.video.exportprocess import ExportProcess
from examroom.video.index import VideoIndex, as_utc
from scoring.rules import default_ruleset_path
from tests.web.browser import chromium_page
from tests.web.conftest import PASSWORD, csrf_token, login
from tests.web.test_replay import judged  # noqa: F401  (the stored E hill_short attempt)
from tests.web.test_replay_video import CAMERAS, TOLERANCE, footage  # noqa: F401
from tests.waiting import wait_for

WAIT = 60.0  # seconds an export may take on a loaded 2-core machine


@pytest.fixture
def exports_dir(app, footage, tmp_path):  # noqa: F811
    folder = tmp_path / "exports"
    app.config["EXPORTS_DIR"] = str(folder)
    return folder


@pytest.fixture
def controller_worker(app, records, exports_dir, sqlite_url):
    """Starts the controller's export worker on demand; stops it after the test."""
    started = []

    def start() -> ExportQueue:
        queue = ExportQueue(records.sessions, VideoIndex(records.sessions), Path(app.config["RECORDINGS_DIR"]),
                            exports_dir, process=ExportProcess(sqlite_url, DEMO_COURSE_PATH, default_ruleset_path()))
        started.append(queue.start())
        return queue

    yield start
    for queue in started:
        queue.stop()


@pytest.fixture
def two_deductions(records, judged):  # noqa: F811
    """The stored attempt with a second deduction 4 s before its first, so chapters are counted."""
    attempt_id, _ = judged
    first = records.attempt(attempt_id).deductions[0]
    records.add_deduction(attempt_id, {"rule": "general.no_signal", "code": "41101", "title": "起步未开转向灯",
                                       "points": 10, "t": first.t - 4.0,
                                       "utc": (as_utc(first.utc) - timedelta(seconds=4)).isoformat()})
    return sorted(records.attempt(attempt_id).deductions, key=lambda d: as_utc(d.utc))


def _signed_in(app, role: str):
    client = app.test_client()
    assert login(client, role).status_code == 302
    return client


def _request_export(client, attempt_id: int, camera: str, overlay: bool = False):
    page = client.get(f"/attempts/{attempt_id}/replay").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "camera": camera}
    if overlay:
        data["overlay"] = "1"
    return client.post(f"/attempts/{attempt_id}/exports", data=data)


def _wait_done(client, status_url: str) -> dict:
    def finished():
        job = client.get(status_url).get_json()
        return job if job["status"] in ("done", "failed") else None
    return wait_for(finished, timeout=WAIT, interval=0.2, what=f"the export at {status_url} to finish")


def _job_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rsplit("#export-", 1)[1])


def test_an_auditor_exports_the_clip_with_a_chapter_per_deduction(app, accounts, records, footage, two_deductions,
                                                                 controller_worker, tmp_path):
    attempt_id, _ = footage
    client = _signed_in(app, "auditor")
    page = client.get(f"/attempts/{attempt_id}/replay").get_data(as_text=True)
    assert 'id="export-form"' in page and all(f'<option value="{c}" title="{c}">' in page for c in CAMERAS)

    # The controller is not running yet: the request waits in the table, it is not lost.
    job_id = _job_of(_request_export(client, attempt_id, "top"))
    status_url = f"/attempts/{attempt_id}/exports/{job_id}.json"
    queued = client.get(status_url).get_json()
    assert queued["status"] == "queued" and queued["state"] == "排队中" and queued["download"] is None
    page = client.get(f"/attempts/{attempt_id}/replay").get_data(as_text=True)
    assert f'id="export-{job_id}"' in page and f'data-status-url="{status_url}"' in page
    entry = AuditLog(records.sessions).entries()[0]
    assert (entry.actor, entry.action, entry.target) == ("auditor", "export_video", f"attempt {attempt_id}")
    assert f"job {job_id}" in entry.detail and "camera top" in entry.detail

    controller_worker()
    job = _wait_done(client, status_url)
    assert job["status"] == "done" and job["progress"] == 1.0 and job["state"] == "已完成", job
    download = client.get(job["download"])
    assert download.status_code == 200 and download.mimetype == "video/mp4"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert AuditLog(records.sessions).entries()[0].action == "download_export"

    clip = tmp_path / "downloaded.mp4"
    clip.write_bytes(download.data)
    with av.open(str(clip)) as container:
        chapters = container.chapters()
        frames = [(frame.time, frame.to_ndarray(format="bgr24")) for frame in container.decode(video=0)]
    assert len(chapters) == len(two_deductions) + 1  # the lead-in, then one per deduction
    for deduction, chapter in zip(two_deductions, chapters[1:]):
        assert chapter["metadata"]["title"].endswith(deduction.title)
        start = float(chapter["start"] * chapter["time_base"])
        shown = next(timecode.read(image) for at, image in frames if at >= start - 1e-3)
        assert abs((shown - as_utc(deduction.utc)).total_seconds()) <= TOLERANCE, (deduction.title, shown)


def test_the_overlay_export_draws_the_attempt_below_the_time_code(app, accounts, footage, controller_worker,
                                                                tmp_path):
    attempt_id, _ = footage
    client = _signed_in(app, "admin")
    controller_worker()
    job = _wait_done(client, f"/attempts/{attempt_id}/exports/"
                             f"{_job_of(_request_export(client, attempt_id, 'chase-V1', overlay=True))}.json")
    assert job["status"] == "done" and job["overlay"] and job["camera"] == "chase-V1", job
    clip = tmp_path / "overlay.mp4"
    clip.write_bytes(client.get(job["download"]).data)
    with av.open(str(clip)) as container:
        assert len(container.chapters()) == 2
        image = next(container.decode(video=0)).to_ndarray(format="bgr24")
    assert timecode.read(image) is not None, "the overlay leaves the time code readable"
    panel = image[24:, 4:420].astype(int)
    assert np.abs(panel - 90).mean() > 10, "the facts panel is drawn over the plain picture"


def test_an_attempt_without_its_footage_or_unfinished_is_refused_clearly(app, accounts, records, footage,
                                                                        exports_dir):
    attempt_id, _ = footage
    client = _signed_in(app, "auditor")
    refused = client.post("/attempts/99999/exports", data={
        "csrf_token": csrf_token(client.get(f"/attempts/{attempt_id}/replay").get_data(as_text=True)),
        "camera": "top"})
    assert refused.status_code == 404 and "没有编号为 99999 的考试" in refused.get_data(as_text=True)
    assert client.get("/attempts/99999/exports/1.json").status_code == 404
    assert client.get(f"/attempts/{attempt_id}/exports/99999.json").status_code == 404
    assert client.get(f"/attempts/{attempt_id}/exports/99999.mp4").status_code == 404
    answer = _request_export(client, attempt_id, "gate")
    assert answer.status_code == 302 and "#export-" not in answer.location
    assert "摄像机 gate 没有这场考试的录像" in client.get(answer.location).get_data(as_text=True)
    app.config["EXPORTS_DIR"] = ""
    assert 'id="export-form"' not in client.get(f"/attempts/{attempt_id}/replay").get_data(as_text=True)
    assert _request_export(client, attempt_id, "top").status_code == 404


def test_only_auditors_and_admins_export_and_download(app, accounts, records, footage, controller_worker):
    attempt_id, _ = footage
    auditor = _signed_in(app, "auditor")
    job_id = _job_of(_request_export(auditor, attempt_id, "top"))
    controller_worker()
    job = _wait_done(auditor, f"/attempts/{attempt_id}/exports/{job_id}.json")
    assert job["status"] == "done", job

    supervisor = _signed_in(app, "supervisor")
    page = supervisor.get(f"/attempts/{attempt_id}/replay").get_data(as_text=True)
    assert 'id="export-form"' not in page and "/exports/" not in page
    assert supervisor.post(f"/attempts/{attempt_id}/exports",
                           data={"csrf_token": csrf_token(page), "camera": "top"}).status_code == 403
    assert supervisor.get(job["status_url"]).status_code == 403
    assert supervisor.get(job["download"]).status_code == 403
    assert _signed_in(app, "admin").get(job["download"]).status_code == 200

    anonymous = app.test_client()
    for url in (job["status_url"], job["download"]):
        answer = anonymous.get(url)
        assert answer.status_code == 302 and "/login" in answer.location
    # A candidate signed in to the portal is no staff: the exports stay closed.
    candidate = app.test_client()
    token = csrf_token(candidate.get("/candidate/").get_data(as_text=True))
    assert candidate.post("/candidate/", data={"csrf_token": token, "id_number": "62120219900101123X",
                                               "name": "张伟", "exam_number": "62000001"}).status_code == 302
    assert candidate.get(job["download"]).status_code == 302

    # An auditor of another course does not see this course's attempts at all.
    accounts.create("elsewhere", PASSWORD, Role.AUDITOR, scope="other-course")
    assert _signed_in(app, "elsewhere").get(job["download"]).status_code == 404


def test_in_chromium_the_progress_moves_and_the_download_link_appears(app, accounts, footage, controller_worker):
    attempt_id, _ = footage
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with chromium_page() as page:
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "auditor")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{base}/attempts/{attempt_id}/replay")
            page.select_option("#export-form select[name=camera]", "chase-V1")
            page.click("#export-form button[type=submit]")
            item = page.locator("#exports li.export")
            item.wait_for(timeout=10_000)
            assert "排队中" in item.inner_text() and item.locator("a.download").is_hidden()
            controller_worker()  # the page keeps asking; the controller takes the job now
            link = item.locator("a.download")
            link.wait_for(state="visible", timeout=WAIT * 1000)
            assert "已完成" in item.inner_text() and item.locator("progress").evaluate("p => p.value") == 1
            clip = page.request.get(link.evaluate("a => a.href"))
            assert clip.status == 200 and clip.headers["content-type"] == "video/mp4" and len(clip.body()) > 1000
    finally:
        server.shutdown()
