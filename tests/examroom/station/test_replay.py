"""Captured attempts replayed byte for byte through fresh drivers give the same judgement.

The demo course (in lockstep) captures the raw bytes of every device per attempt. Each
scripted attempt is then judged again from those bytes alone (plus the
supervisor/system commands of its journal): the replayed device
observations must be exactly the journaled ones and the result the same.
"""

import pytest

from devices.rawcapture import captured_devices, read_raw
from examroom.station.capture import attempt_dir
from examroom.simulation.lockstep import LockstepCourse
from examroom.station.raw_replay import replay_attempt
from examroom.simulation.scenarios import scenario
from scoring.observations import CourseSensor, Pose, Signals, read_jsonl, to_dict
from scoring.report import result_to_dict

@pytest.fixture(scope="module")
def attempts(tmp_path_factory, copy_migrated):
    # In lockstep (examroom.simulation.lockstep): the drivers capture what they read from the links.
    folder = tmp_path_factory.mktemp("replay")
    copy_migrated(folder / "examroom.sqlite3")
    demo = LockstepCourse(folder).start()
    try:
        outcomes = [demo.drivers["V1"].drive(scenario("E", name)) for name in ("pole_touch", "bridge_drop")]
        yield demo, outcomes
    finally:
        demo.stop()


def test_capture_holds_every_device_of_the_attempt(attempts):
    demo, outcomes = attempts
    directory = attempt_dir(demo.service.settings.raw_capture_dir, outcomes[0].attempt_id)
    assert captured_devices(directory) == ["V1.gnss", "V1.signals", "course-board-1"]
    chunks = list(read_raw(directory, "V1.gnss"))
    assert chunks and all(a.mono <= b.mono for a, b in zip(chunks, chunks[1:]))
    assert b"$GNGGA," in b"".join(c.data for c in chunks)
    board = list(read_raw(directory, "course-board-1"))
    assert {c.direction for c in board} == {"rx", "tx"}  # Modbus requests and replies


@pytest.mark.parametrize("index", [0, 1], ids=["pole_touch", "bridge_drop"])
def test_replay_gives_the_same_observations_and_judgement(attempts, index):
    demo, outcomes = attempts
    service = demo.service
    attempt_id = outcomes[index].attempt_id
    lines = list(service.records.journal_lines(attempt_id))
    replayed = replay_attempt(attempt_dir(service.settings.raw_capture_dir, attempt_id), lines,
                              service.settings, service.course, service.ruleset)

    journal = list(read_jsonl(lines))
    live_obs = [to_dict(o) for o in journal if isinstance(o, (Pose, Signals, CourseSensor))]
    replay_obs = [to_dict(o) for o in replayed.observations if isinstance(o, (Pose, Signals, CourseSensor))]
    # Byte for byte: every observation the live drivers produced comes out of the replay,
    # equal in every field including its stamp.
    missing = [o for o in live_obs if o not in replay_obs]
    assert not missing, missing[:3]
    assert any(o["kind"] == "course" for o in live_obs)  # the course board's bytes mattered
    # Readings stamped just before the start but queued behind it are the only possible extra.
    assert len(replay_obs) - len(live_obs) <= 2

    stored = service.records.attempt(attempt_id).result
    again = result_to_dict(replayed.result)
    assert [d["rule"] for d in again["deductions"]] == [d["rule"] for d in stored["deductions"]]
    assert (again["score"], again["status"]) == (stored["score"], stored["status"])
    assert [d["t"] for d in again["deductions"]] == [d["t"] for d in stored["deductions"]]


def test_replay_command_reports_the_same_judgement(attempts, tmp_path, capsys):
    from examroom.cli.main import main

    demo, outcomes = attempts
    settings = demo.service.settings
    site = tmp_path / "site.toml"
    lines = [f'database_url = "{settings.database_url}"', f'course_file = "{settings.course_file}"',
             f'rule_set_file = "{settings.rule_set_file}"', f'raw_capture_dir = "{settings.raw_capture_dir}"']
    for v in settings.vehicles:
        lines += ["[[vehicles]]", f'id = "{v.id}"', f'plate = "{v.plate}"', f'model = "{v.model}"',
                  f'gnss = {{ port = "{v.gnss.port}" }}', f'signals = {{ port = "{v.signals.port}" }}']
    for b in settings.course_boards:
        lines += ["[[course_boards]]", f'id = "{b.id}"', f"unit = {b.unit}", f'serial = {{ port = "{b.serial.port}" }}',
                  "inputs = [" + ", ".join(f'"{e or ""}"' for e in b.inputs) + "]"]
    site.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["replay", str(outcomes[0].attempt_id), "--site", str(site)]) == 0
    out = capsys.readouterr().out
    assert "same judgement" in out and "V1.gnss" in out
    assert main(["replay", "999", "--site", str(site)]) == 2
    assert "no attempt 999" in capsys.readouterr().err
