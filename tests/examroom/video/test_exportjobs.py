"""Export jobs: background, with progress, and picked up again after a restart."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import av
import pytest

from examroom.records.database import session_factory
from examroom.records.models import ExportJob
from examroom.video import timecode
from examroom.video.exportjobs import ExportQueue
from examroom.video.index import VideoIndex
from examroom.video.segments import tree_path
from tests.examroom.video.footage import write_time_coded_segment

T0 = datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)
FPS = 10


def _segment(path, start: datetime, seconds: int) -> None:
    write_time_coded_segment(path, start, seconds, FPS, 480, 180)


@pytest.fixture
def queue(engine, tmp_path):
    sessions = session_factory(engine)
    index = VideoIndex(sessions)
    recordings = tmp_path / "recordings"
    for i in range(3):
        start = T0 + timedelta(seconds=2 * i)
        relative = tree_path("top", start)
        _segment(recordings / relative, start, 2)
        index.add_segment("top", relative, start, start + timedelta(seconds=2), 2.0,
                          (recordings / relative).stat().st_size)
    return ExportQueue(sessions, index, recordings, tmp_path / "exports"), sessions


def test_a_job_cut_off_by_a_restart_is_done_again(queue):
    exports, sessions = queue
    job_id = exports.request("top", T0, T0 + timedelta(seconds=6))
    with sessions.begin() as session:  # the controller died while the job ran
        job = session.get(ExportJob, job_id)
        job.status, job.progress = "running", 0.4
    exports.start()
    try:
        done = exports.wait(job_id, 30)
    finally:
        exports.stop()
    assert done["status"] == "done" and done["progress"] == 1.0
    assert "restarted" in done["error"] or done["error"] == ""
    with av.open(str(exports.exports_dir / done["path"])) as clip:
        frames = [f for f in clip.decode(video=0)]
    assert len(frames) == 6 * FPS
    assert timecode.read(frames[-1].to_ndarray(format="bgr24")) == T0 + timedelta(seconds=6 - 1 / FPS)
    assert not list(exports.exports_dir.glob("*.part.mp4"))


def test_progress_is_kept_in_the_row(queue):
    exports, sessions = queue
    seen = []
    original = exports._update

    def spy(job_id, **values):
        if "progress" in values:
            seen.append(values["progress"])
        original(job_id, **values)

    exports._update = spy
    job_id = exports.request("top", T0, T0 + timedelta(seconds=6))
    assert exports.claim(job_id)
    exports.run_job(job_id)
    assert exports.job(job_id)["status"] == "done"
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_a_range_without_footage_fails_with_its_reason(queue):
    exports, _ = queue
    job_id = exports.request("top", T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert exports.claim(job_id)
    exports.run_job(job_id)
    job = exports.job(job_id)
    assert job["status"] == "failed" and "no recorded segments" in job["error"]
    with pytest.raises(Exception, match="before it starts"):
        exports.request("top", T0, T0 - timedelta(seconds=1))


def test_the_command_line_exports_a_range(queue, tmp_path, sqlite_url, capsys):
    from examroom.cli.main import main
    from examroom.simulation.scenarios import DEMO_COURSE_PATH
    from scoring.rules import default_ruleset_path

    exports, _ = queue
    settings = tmp_path / "site.toml"
    settings.write_text(f'''database_url = "{sqlite_url}"
course_file = "{DEMO_COURSE_PATH}"
rule_set_file = "{default_ruleset_path()}"
[video]
recordings_dir = "{exports.recordings_dir}"
cache_dir = "{tmp_path / 'cache'}"
exports_dir = "{tmp_path / 'cli-exports'}"
[[video.cameras]]
id = "top"
url = "0"
mode = "encode"
''', encoding="utf-8")
    code = main(["export-video", "--settings", str(settings), "--camera", "top",
                 "--from", "2026-11-29T04:00:01Z", "--to", "2026-11-29T04:00:03Z"])
    out = capsys.readouterr()
    assert code == 0, out.err
    path = out.out.strip()
    assert path.endswith(".mp4") and (tmp_path / "cli-exports").exists()
    with av.open(path) as clip:
        assert len([f for f in clip.decode(video=0)]) == 4 * FPS  # the two segments the range touches
    assert main(["export-video", "--settings", str(settings), "--camera", "gate", "--attempt", "1"]) == 2
    assert "no camera 'gate'" in capsys.readouterr().err
