"""``examroom devices check`` against the simulated course's twins over pseudo-terminals."""

import io
import threading

import pytest

from devices.readings import SystemClock
from examroom.cli.main import main
from examroom.cli.selfcheck import run_check
from examroom.simulation.course_twins import SimulatedCourse
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.simulation.world import VehicleTruth
from examroom.simulation.demo import DEMO_VEHICLES
from scoring.course import load_course

pytestmark = pytest.mark.slow


def site_file(tmp_path, sim, usb_serial_for_board=None):
    lines = [f'database_url = "sqlite:///{tmp_path / "db.sqlite3"}"',
             f'course_file = "{DEMO_COURSE_PATH}"',
             f'rule_set_file = "{DEMO_COURSE_PATH.parent.parent / "rules" / "ga1026-2022.toml"}"']
    for v in sim.vehicles.values():
        lines += ["[[vehicles]]", f'id = "{v.vehicle.id}"', f'plate = "{v.vehicle.plate}"',
                  f'model = "{v.vehicle.model}"', f'gnss = {{ port = "{v.gnss_cable.b}", baudrate = 38400 }}',
                  f'signals = {{ port = "{v.signal_cable.b}", baudrate = 115200 }}']
    board = f'usb_serial = "{usb_serial_for_board}"' if usb_serial_for_board else f'port = "{sim.board_cable.b}"'
    lines += ["[[course_boards]]", 'id = "board-1"', "unit = 1", f"serial = {{ {board}, baudrate = 19200 }}",
              "inputs = [" + ", ".join(f'"{e}"' for e in sim.elements) + "]"]
    path = tmp_path / "site.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def sim():
    course = SimulatedCourse(load_course(DEMO_COURSE_PATH), list(DEMO_VEHICLES), SystemClock())
    course.start()
    for i, twins in enumerate(course.vehicles.values()):
        twins.show(VehicleTruth(x=2.0 * i, y=0.0, heading=0.0, speed=0.0))
    yield course
    course.stop()


class _WatchedOutput(io.StringIO):
    """The check's printed report, which a walker can wait on line by line."""

    def __init__(self) -> None:
        super().__init__()
        self._written = threading.Condition()

    def write(self, text: str) -> int:
        with self._written:
            n = super().write(text)
            self._written.notify_all()
        return n

    def wait_for(self, text: str, timeout: float) -> bool:
        with self._written:
            return self._written.wait_for(lambda: text in self.getvalue(), timeout)


def test_check_passes_after_the_walk_round(tmp_path, sim):
    """A person touches each pole and holds it until the check has seen it, as they would watch the screen."""
    site = site_file(tmp_path, sim)
    out = _WatchedOutput()

    def walk():
        if not out.wait_for("巡场检测", timeout=30):
            return
        for element in sim.elements:
            sim.board.set_input(sim._index[element], True)
            seen = out.wait_for(f"✓ {element} ", timeout=10)
            sim.board.set_input(sim._index[element], False)
            if not seen:
                return

    walker = threading.Thread(target=walk)
    walker.start()
    rc = run_check(site, settle=1.5, walk_timeout=20, out=out)
    walker.join()
    text = out.getvalue()
    assert rc == 0, text
    assert "✓ V1.gnss" in text and "RTK固定解" in text
    assert text.count("  ✓ e_pile.pole") == 5 and "场地信号检测 #1：通过" in text


def test_check_fails_and_names_what_is_missing(tmp_path, sim, capsys):
    site = site_file(tmp_path, sim, usb_serial_for_board="NOSUCH01")
    rc = main(["devices", "check", "--site", str(site), "--settle", "1", "--no-walk"])
    text = capsys.readouterr().out
    assert rc == 1
    assert "✗ board-1" in text and "未插入序列号为 NOSUCH01 的 USB 串口" in text
    assert "未触发" in text and "未通过" in text


def test_settings_errors_name_device_and_field(tmp_path, sim, capsys):
    site = site_file(tmp_path, sim)
    site.write_text(site.read_text(encoding="utf-8").replace('"e_pile.pole3"', '"e_pile.pole9"'), encoding="utf-8")
    assert main(["devices", "check", "--site", str(site), "--no-walk"]) == 2
    err = capsys.readouterr().err
    assert "course_boards[0].inputs[2]: 'e_pile.pole9' is not a sensed element" in err and "board-1" in err
