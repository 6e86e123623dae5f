"""Export jobs run in a child process: at lower priority, stopped with the controller, settled when they die.

The footage is 30 s of 640×360 10 fps H.264 (ffmpeg's test pattern in three
10 s segments), so an overlay export takes seconds: long enough to look at its
process, kill it or stop the queue while it runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
import pytest

from devices.camera.ffmpeg import ffmpeg_exe
from examroom.records.database import session_factory
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.video.exportjobs import ExportQueue
from examroom.video.exportprocess import DATABASE_ENV, ExportProcess
from examroom.video.index import VideoIndex
from examroom.video.segments import tree_path
from scoring.rules import default_ruleset_path
from tests.examroom.video.footage import probe
from tests.waiting import wait_for

T0 = datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)
SECONDS = 30
FPS = 10  # 300 frames: seconds of overlay export (750 at 25 fps took 12–15 s a test on 2 cores)
WAIT = 120.0  # seconds an export may take on a loaded 2-core machine


@pytest.fixture(scope="module")
def footage_files(tmp_path_factory) -> list[Path]:
    raw = tmp_path_factory.mktemp("raw")
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size=640x360:rate={FPS}", "-t", str(SECONDS), "-c:v", "libx264", "-preset",
                    "ultrafast", "-g", str(2 * FPS), "-f", "segment", "-segment_time", "10", "-reset_timestamps",
                    "1", str(raw / "seg%02d.mp4")], check=True)
    return sorted(raw.glob("seg*.mp4"))


@pytest.fixture
def queue(engine, sqlite_url, tmp_path, footage_files):
    sessions = session_factory(engine)
    index = VideoIndex(sessions)
    recordings = tmp_path / "recordings"
    start = T0
    for path in footage_files:
        duration = probe(path).duration
        relative = tree_path("gate", start)
        (recordings / relative).parent.mkdir(parents=True, exist_ok=True)
        os.link(path, recordings / relative)
        index.add_segment("gate", relative, start, start + timedelta(seconds=duration), duration,
                          (recordings / relative).stat().st_size)
        start += timedelta(seconds=duration)
    queue = ExportQueue(sessions, index, recordings, tmp_path / "exports",
                        process=ExportProcess(sqlite_url, DEMO_COURSE_PATH, default_ruleset_path()))
    yield queue
    queue.stop()


def _running_child(queue: ExportQueue, job_id: int, past: float) -> int:
    """The pid of the process running the job once its row shows progress beyond ``past``."""
    def state():
        pid, job = queue.child_pid, queue.job(job_id)
        assert job["status"] in ("queued", "running"), job
        return pid if pid and job["status"] == "running" and job["progress"] > past else None
    return wait_for(state, timeout=WAIT, interval=0.02, what=f"export {job_id} past {past:.0%} in its process")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its parent has not collected it yet


def _group(pgid: int) -> list[int]:
    """Live processes in a process group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _frames(path: Path) -> int:
    with av.open(str(path)) as clip:
        return sum(1 for _ in clip.decode(video=0))


def test_a_job_runs_in_its_own_process_at_lower_priority(queue):
    job_id = queue.request("gate", T0, T0 + timedelta(seconds=SECONDS), overlay=True)
    queue.start()
    pid = _running_child(queue, job_id, 0.0)  # progress is written once the child has lowered its priority
    assert pid != os.getpid()
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"examroom.video.exportrun" in command and command[command.index(b"--job") + 1] == str(job_id).encode()
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    environ = dict(line.split(b"=", 1) for line in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if line)
    assert environ[DATABASE_ENV.encode()].decode() == queue.process.database_url
    assert not any(queue.process.database_url.encode() in part for part in command), "the URL stays off ps"
    scratch = Path(environ[b"TMPDIR"].decode())
    assert scratch.is_dir()

    done = queue.wait(job_id, WAIT)
    assert done["status"] == "done" and done["progress"] == 1.0, done
    assert _frames(queue.exports_dir / done["path"]) == SECONDS * FPS
    assert not list(queue.exports_dir.glob("*.part.mp4"))
    # The row is done before the worker has seen its child end and cleaned up after it.
    wait_for(lambda: not scratch.exists(), timeout=10, interval=0.02, what="the child's temporary folder to be removed")
    assert queue.child_pid is None and not _alive(pid)


def test_a_killed_child_fails_its_job_with_the_reason_and_the_next_job_runs(queue):
    slow = queue.request("gate", T0, T0 + timedelta(seconds=SECONDS), overlay=True)
    quick = queue.request("gate", T0, T0 + timedelta(seconds=10))
    queue.start()
    pid = _running_child(queue, slow, 0.2)
    os.kill(pid, signal.SIGKILL)

    failed = queue.wait(slow, WAIT)
    assert failed["status"] == "failed", failed
    assert failed["error"] == "the export process was killed by SIGKILL" and failed["path"] == ""
    done = queue.wait(quick, WAIT)
    assert done["status"] == "done", done
    assert _frames(queue.exports_dir / done["path"]) == 10 * FPS
    assert sorted(p.name for p in queue.exports_dir.iterdir()) == [done["path"]], "no half-written file is left"
    assert _group(pid) == [], "nothing the killed child started outlives it"


def test_stopping_the_queue_ends_the_child_and_the_job_runs_again_after_the_restart(queue):
    job_id = queue.request("gate", T0, T0 + timedelta(seconds=SECONDS), overlay=True)
    queue.start()
    pid = _running_child(queue, job_id, 0.15)
    queue.stop()
    assert not _alive(pid) and _group(pid) == []
    cut = queue.job(job_id)
    assert cut["status"] == "queued" and cut["progress"] == 0.0 and "stopped with the controller" in cut["error"]
    assert not list(queue.exports_dir.glob("*.part.mp4"))

    queue.start()  # the controller is back
    done = queue.wait(job_id, WAIT)
    assert done["status"] == "done" and done["error"] == "", done
    assert _frames(queue.exports_dir / done["path"]) == SECONDS * FPS


def test_a_child_that_cannot_work_fails_the_job_with_its_last_words(queue, tmp_path):
    queue.process = ExportProcess(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}")
    job_id = queue.request("gate", T0, T0 + timedelta(seconds=10))
    queue.start()
    failed = queue.wait(job_id, WAIT)
    assert failed["status"] == "failed", failed
    assert failed["error"].startswith("the export process exited with status 1: error: DatabaseURLError")
    assert "no-such-folder does not exist" in failed["error"]


# The controller killed outright (SIGKILL, power cut of its process): this stands in for it.
CONTROLLER = """
import json, os, subprocess, sys, time
command, env = json.loads(sys.argv[1]), json.loads(sys.argv[2])
command[command.index("--parent") + 1] = str(os.getpid())
child = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
print(child.pid, flush=True)
time.sleep(600)  # not a wait: a controller that lives on until the test kills it
"""


def test_a_child_ends_when_its_controller_dies_and_the_next_start_redoes_the_job(queue, tmp_path):
    job_id = queue.request("gate", T0, T0 + timedelta(seconds=SECONDS), overlay=True)
    assert queue.claim(job_id)
    command = queue.process.command(job_id, queue.recordings_dir, queue.exports_dir, parent_pid=0)
    env = queue.process.environment(tmp_path)
    controller = subprocess.Popen([sys.executable, "-c", CONTROLLER, json.dumps(command), json.dumps(env)],
                                  stdout=subprocess.PIPE, text=True)
    try:
        pid = int(controller.stdout.readline())
        wait_for(lambda: queue.job(job_id)["progress"] > 0.15,
                 timeout=WAIT, interval=0.02, what="the orphan-to-be to make progress")
    finally:
        controller.kill()
        controller.wait()
    wait_for(lambda: not _alive(pid), timeout=10, interval=0.02, what="the child to end after its controller")
    assert queue.job(job_id)["status"] == "running"  # as a dead controller leaves it

    queue.start()  # the next start queues it again and runs it
    done = queue.wait(job_id, WAIT)
    assert done["status"] == "done" and done["error"] == "", done
    assert _frames(queue.exports_dir / done["path"]) == SECONDS * FPS


def test_the_controller_runs_its_exports_in_child_processes_with_its_course_and_rules(tmp_path):
    from examroom.station.service import CourseService
    from tests.examroom.station.test_service_face_watch import site

    service = CourseService(site(tmp_path, {}))  # built, not started: no device or camera opens
    try:
        assert service.video.exports.process == ExportProcess(service.settings.database_url, DEMO_COURSE_PATH,
                                                              default_ruleset_path())
    finally:
        service.engine.dispose()
