"""What the controller process imports: PyAV and Alembic stay out of it.

PyAV brings its own copy of FFmpeg's libraries (32 MB PSS in the fleet bench,
bench/README.md); the controller decodes with OpenCV's FFmpeg and records with
the ffmpeg program, so it has no use for them. Alembic migrates the database
once at the start, in a child (examroom.records.schema_process). Run in a
child, whose modules are only what the controller imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.video.recorder import LIST_NAME, RUN_NAME

ROOT = Path(__file__).resolve().parents[3]
CAMERA = "chase-V1"
EPOCH_START = 1_795_936_268.5  # the wall-clock stamps of a stream-copy run's first segment


def _copy_run_left_in_the_cache(cache: Path) -> None:
    """Two listed segments of an ended stream-copy run: its first (wall-clock times) and its second."""
    run_dir = cache / CAMERA / "run-1"
    run_dir.mkdir(parents=True)
    (run_dir / RUN_NAME).write_text(json.dumps({"camera": CAMERA, "mode": "copy", "origin": 0.0, "offset": 0.0}))
    for n, first in enumerate((EPOCH_START, 0.0)):
        with av.open(str(run_dir / f"seg{n:06d}.mp4"), "w", format="mp4") as out:
            stream = out.add_stream("libx264", rate=10, options={"preset": "ultrafast"})
            stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
            for i in range(20):
                frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="bgr24")
                frame.pts, frame.time_base = round(first * 10) + i, Fraction(1, 10)
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
    (run_dir / LIST_NAME).write_text(f"seg000000.mp4,0.000000,{EPOCH_START + 2:.6f}\n"
                                     f"seg000001.mp4,{EPOCH_START + 2:.6f},{EPOCH_START + 4:.6f}\n")


def test_the_controller_and_its_segment_maintainer_import_neither_pyav_nor_alembic(tmp_path):
    _copy_run_left_in_the_cache(tmp_path / "cache")
    code = f"""
import json, sys
from pathlib import Path
from devices.camera import CameraSpec
from examroom.station.service import CourseService
from examroom.site.cameras import VideoSettings
from examroom.site.settings import SerialSettings, SiteSettings, VehicleSettings
from scoring.rules import default_ruleset_path

tmp = Path({str(tmp_path)!r})
vehicle = VehicleSettings(id="V1", plate="甘K·0001学", model="E-01", gnss=SerialSettings("loop://"),
                          signals=SerialSettings("loop://"))
# A network camera recorded by copy and shown live (the site default); nothing serves its address.
camera = CameraSpec({CAMERA!r}, "tcp://127.0.0.1:9", mode="copy", roles=("record", "live"))
video = VideoSettings(cameras=[camera], recordings_dir=tmp / "rec", cache_dir=tmp / "cache", exports_dir=tmp / "exp")
site = SiteSettings(database_url=f"sqlite:///{{tmp / 'course.sqlite3'}}", course_file=Path({str(DEMO_COURSE_PATH)!r}),
                    rule_set_file=default_ruleset_path(), vehicles=[vehicle], require_selfcheck=False,
                    video=video, data_dir=tmp)
service = CourseService(site).start()  # the video system files what a previous run left in the cache
try:
    service.video.maintain()
    filed = [s.duration for s in service.video.index.all_segments({CAMERA!r})]
finally:
    service.stop()
print(json.dumps({{"filed": filed, "tables": len(service.engine.dialect.get_table_names(service.engine.connect())),
                  "kept": sorted(m for m in sys.modules if m.split(".")[0] in ("av", "alembic", "mako", "pygments"))}}))
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert [round(d, 3) for d in seen["filed"]] == [2.0, 2.0]  # both checked and filed, the first rebased
    assert seen["tables"] > 20  # the schema was made, by the child
    assert seen["kept"] == []
