"""Device settings: ports by path, by-id link or USB serial number, line settings, inputs vs the course."""

import copy
import os

import pytest
import serial

from devices.nullmodem import NullModem
from examroom.station.serial_ports import PortNotFound, locate, port_url
from examroom.site.settings import SerialSettings, SettingsError, check_against_course, load_settings, parse_settings
from scoring.course import load_course

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "config", "sites", "example-county.toml")
BASE = {
    "database_url": "sqlite://", "course_file": "c.toml", "rule_set_file": "r.toml",
    "vehicles": [{"id": "V1", "plate": "甘K·0001学", "model": "E-01",
                  "gnss": {"port": "/dev/ttyUSB0"}, "signals": {"usb_serial": "A10KJ3XB"}}],
    "course_boards": [{"id": "B1", "unit": 1, "serial": {"port": "/dev/ttyUSB2", "parity": "E"},
                       "inputs": ["e_pile.pole1", "", "e_bridge.A"]}],
}


def parse(change=None):
    data = copy.deepcopy(BASE)
    if change:
        change(data)
    return parse_settings(data)


def test_the_example_site_file_loads_and_matches_its_course():
    settings = load_settings(EXAMPLE)
    assert [v.id for v in settings.vehicles] == ["V1", "V2"]
    assert settings.vehicles[0].signals.usb_serial == "A10KJ3XB" and settings.vehicles[0].signals.port == ""
    assert settings.course_boards[0].serial.parity == "E" and settings.required_fix == "rtk_fixed"
    assert settings.video.riders == {"V2": "car-V2"}
    assert settings.personal_data_days == 30  # the example's [personal_data]; 90 where a site says nothing
    assert parse(lambda d: d.pop("personal_data", None)).personal_data_days == 90
    assert settings.face_models_idle_minutes == 10 and parse().face_models_idle_minutes == 10
    check_against_course(settings, load_course(settings.course_file))


def test_a_wrong_face_models_idle_time_names_the_file_the_field_and_the_range(tmp_path):
    with open(EXAMPLE, encoding="utf-8") as f:
        text = f.read()
    assert "models_idle_minutes = 10\n" in text
    site = tmp_path / "county.toml"
    site.write_text(text.replace("models_idle_minutes = 10\n", "models_idle_minutes = 2000\n"), encoding="utf-8")
    with pytest.raises(SettingsError, match=r"county\.toml: faces\.models_idle_minutes: must be between 1 and 1440, "
                                            r"got 2000"):
        load_settings(site)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["vehicles"][0]["gnss"].pop("port"), r"vehicles\[0\]\.gnss: give port .* or usb_serial .*\(vehicle V1\)"),
    (lambda d: d["vehicles"][0]["signals"].update(port="/dev/ttyS0"), r"vehicles\[0\]\.signals: give port or usb_serial, not both"),
    (lambda d: d["vehicles"][0]["gnss"].update(stopbits=3), r"vehicles\[0\]\.gnss\.stopbits: must be between 1 and 2.*\(vehicle V1\)"),
    (lambda d: d["vehicles"][0].update(gnss_epoch_end="GSV"), r"vehicles\[0\]\.gnss_epoch_end: must be one of"),
    (lambda d: d["course_boards"][0].update(address=70000), r"course_boards\[0\]\.address: must be between.*\(course board B1\)"),
    (lambda d: d["course_boards"][0]["serial"].update(port="/dev/ttyUSB0"),
     r"course_boards\[0\]\.serial: course board B1 uses the same port '/dev/ttyUSB0' as V1 GNSS"),
    (lambda d: d["course_boards"][0].update(inputs=["e_pile.pole1", "e_pile.pole1"]),
     r"course_boards\[0\]\.inputs\[1\]: element 'e_pile.pole1' is already wired at course_boards\[0\]\.inputs\[0\]"),
    (lambda d: d.update(health={"required_fix": "rtk"}), r"health\.required_fix: must be one of"),
    (lambda d: d.update(selfcheck={"required": "yes"}), r"selfcheck\.required: expected true or false, got string"),
    (lambda d: d.update(personal_data={"retention_days": 0}), r"personal_data\.retention_days: must be between 1"),
    (lambda d: d.update(personal_data={"retention": 30}), r"personal_data.*retention"),
    (lambda d: d.update(faces={"models_idle_minutes": 0}), r"faces\.models_idle_minutes: must be between 1 and 1440"),
    (lambda d: d.update(faces={"models_idle_minutes": float("nan")}), r"faces\.models_idle_minutes: must be a finite"),
    (lambda d: d.update(faces={"idle_minutes": 5}), r"faces.*idle_minutes"),
])
def test_device_errors_name_field_and_device(change, message):
    with pytest.raises(SettingsError, match=message):
        parse(change)


def test_inputs_must_be_sensed_elements_of_the_course():
    settings = parse(lambda d: d["course_boards"][0].update(inputs=["e_pile.pole1", "e_pile.pole7"]))
    course = load_course(os.path.join(os.path.dirname(EXAMPLE), "..", "courses", "demo.toml"))
    with pytest.raises(SettingsError, match=r"course_boards\[0\]\.inputs\[1\]: 'e_pile.pole7' is not a sensed "
                                            r"element of course .*course board B1"):
        check_against_course(settings, course)


def test_ports_by_stable_link_and_by_usb_serial(tmp_path):
    with NullModem() as modem:
        link = tmp_path / "usb-FTDI_FT232R_USB_UART_A10KJ3XB-if00-port0"
        os.symlink(modem.b, link)
        assert locate(SerialSettings(str(link)), "V1.signals") == os.path.realpath(modem.b)
        s = serial.serial_for_url(port_url(SerialSettings(str(link))), timeout=0.1)  # opens through the link
        s.close()
    with pytest.raises(PortNotFound, match=r"V1\.gnss：未找到串口 /dev/serial/by-id/usb-u-blox-if00"):
        locate(SerialSettings("/dev/serial/by-id/usb-u-blox-if00"), "V1.gnss")
    by_serial = SerialSettings("", usb_serial="A10KJ3XB")
    with pytest.raises(PortNotFound, match="未插入序列号为 A10KJ3XB 的 USB 串口"):
        locate(by_serial, "V1.signals")
    assert port_url(by_serial).startswith("hwgrep://SER=A10KJ3XB")
    with pytest.raises(serial.SerialException, match="no ports found"):  # what the driver reports, and retries
        serial.serial_for_url(port_url(by_serial), do_not_open=False)


def test_board_fault_limit_is_a_health_setting_passed_to_the_board_driver():
    from examroom.station.hardware import build_drivers

    settings = parse(lambda d: d.update(health={"board_fault_limit": 7}))
    assert settings.board_fault_limit == 7 and build_drivers(settings)["B1"].fault_limit == 7
    assert parse().board_fault_limit == 3
    with pytest.raises(SettingsError, match=r"health\.board_fault_limit: must be between 1 and 100"):
        parse(lambda d: d.update(health={"board_fault_limit": 0}))
