"""Retention and the disk guard on a real, small filesystem (a 20 MB tmpfs mounted for the test)."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from examroom.records.database import session_factory
from examroom.live.feed import LiveFeed
from examroom.records.attempt_log import CandidateInfo, Records
from examroom.video.index import VideoIndex
from examroom.video.retention import RetentionGuard, RetentionPolicy, free_bytes
from examroom.video.segments import tree_path

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

MB = 1024**2
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def small_disk(tmp_path):
    """A 20 MB tmpfs: filling it is real, and free space is what statvfs says."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


class Recording:
    """Switches the guard flips: the watchdog's pause/resume in the controller."""

    def __init__(self) -> None:
        self.on = True
        self.stops = 0

    def stop(self) -> None:
        self.on = False
        self.stops += 1

    def resume(self) -> None:
        self.on = True


def _fill(index: VideoIndex, folder: Path, camera: str, start: datetime, count: int, size: int):
    """Write ``count`` segment files of ``size`` bytes, 10 s apart, and index them."""
    segments = []
    for i in range(count):
        begin = start + timedelta(seconds=10 * i)
        relative = tree_path(camera, begin)
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        segments.append(index.add_segment(camera, relative, begin, begin + timedelta(seconds=10), 10.0, size))
    return segments


def _attempt(engine, start: datetime, end: datetime) -> int:
    records = Records(session_factory(engine))
    records.ensure_vehicle("V1", "甘K·3071学", "E", "E-01")
    candidate = records.ensure_candidate(CandidateInfo("张伟", "621202198001011234", "621200000001", "E"))
    attempt_id = records.check_in(candidate, "V1", "demo", "ga1026-2022", start)
    records.mark_running(attempt_id, start)
    return attempt_id


def test_oldest_unpinned_footage_goes_first_and_evidence_stays(engine, small_disk):
    index = VideoIndex(session_factory(engine))
    feed = LiveFeed()
    recording = Recording()
    guard = RetentionGuard(index, small_disk, RetentionPolicy(days=7, floor_bytes=8 * MB), recording.stop,
                           recording.resume, publish=feed.publish)
    start = NOW - timedelta(hours=1)
    segments = _fill(index, small_disk, "top", start, 14, MB)  # 14 MB on a 20 MB disk
    attempt = _attempt(engine, segments[2].start_utc, segments[4].end_utc)
    index.link_evidence(attempt, ["top"], segments[2].start_utc, segments[4].end_utc)
    assert free_bytes(small_disk) < 8 * MB

    report = guard.run(NOW)

    assert free_bytes(small_disk) >= 8 * MB and not report.alarm and recording.on
    kept = {s.id for s in index.all_segments()}
    evidence = {s.id for s in segments[2:5]}
    assert evidence <= kept, "evidence is never deleted"
    gone = [s for s in segments if s.id not in kept]
    assert gone and all(not (small_disk / s.path).exists() for s in gone)
    # Oldest first: every deleted continuous segment is older than every kept continuous one.
    kept_continuous = [s for s in segments if s.id in kept and s.id not in evidence]
    assert max(s.start_utc for s in gone) < min(s.start_utc for s in kept_continuous)
    assert report.freed_for_space == len(gone)


def test_only_evidence_left_stops_recording_with_an_alarm(engine, small_disk):
    index = VideoIndex(session_factory(engine))
    feed = LiveFeed()
    subscription = feed.subscribe()
    recording = Recording()
    guard = RetentionGuard(index, small_disk, RetentionPolicy(days=7, floor_bytes=8 * MB), recording.stop,
                           recording.resume, publish=feed.publish)
    segments = _fill(index, small_disk, "top", NOW - timedelta(hours=1), 15, MB)
    attempt = _attempt(engine, segments[0].start_utc, segments[-1].end_utc)
    index.link_evidence(attempt, ["top"], segments[0].start_utc, segments[-1].end_utc)

    report = guard.run(NOW)
    assert report.alarm and not recording.on and recording.stops == 1
    assert len(index.all_segments()) == 15 and all((small_disk / s.path).exists() for s in segments)
    alarms = index.events(kind="disk_alarm")
    assert len(alarms) == 1 and alarms[0].end_utc is None
    events = [subscription.get(1) for _ in range(2)]
    assert any(e and e.get("event") == "disk_alarm" for e in events)

    guard.run(NOW + timedelta(seconds=30))
    assert recording.stops == 1, "a standing alarm is not raised again"

    # An operator moves evidence off the disk: recording resumes and the alarm closes.
    for path in sorted(small_disk.rglob("*.mp4"))[:8]:
        path.unlink()
    guard.run(NOW + timedelta(seconds=60))
    assert recording.on and index.events(kind="disk_alarm")[0].end_utc is not None


def test_continuous_footage_expires_after_the_configured_days(engine, tmp_path):
    index = VideoIndex(session_factory(engine))
    recording = Recording()
    guard = RetentionGuard(index, tmp_path, RetentionPolicy(days=2, floor_bytes=0), recording.stop, recording.resume)
    old = _fill(index, tmp_path, "top", NOW - timedelta(days=3), 3, 1000)
    new = _fill(index, tmp_path, "top", NOW - timedelta(days=1), 3, 1000)
    attempt = _attempt(engine, old[1].start_utc, old[1].end_utc)
    index.link_evidence(attempt, ["top"], old[1].start_utc, old[1].end_utc)

    report = guard.run(NOW)

    assert report.expired == 2
    assert {s.id for s in index.all_segments()} == {old[1].id} | {s.id for s in new}
    assert not (tmp_path / old[0].path).exists() and (tmp_path / old[1].path).exists()
    assert not (tmp_path / old[0].path).parent.exists() or any((tmp_path / old[0].path).parent.iterdir())
