"""Shipped files are package data: config/ through scoring.config_files, the rider face through importlib.resources."""

from importlib.resources import files
from pathlib import Path

from scoring import config_files
from scoring.rules import default_ruleset_path

ROOT = Path(__file__).resolve().parents[1]


def test_a_checkout_reads_its_own_config_folder():
    assert config_files.config_dir() == ROOT / "config"
    assert default_ruleset_path() == ROOT / "config" / "rules" / "ga1026-2022.toml"
    assert config_files.course_file().is_file()
    assert config_files.shipped_rule_sets() == ["ga1026-2012", "ga1026-2022"]


def test_setup_installs_the_folder_as_a_package():
    # setup.py maps config/ to the import package examroom_config (a wheel carries it as package data).
    setup = (ROOT / "setup.py").read_text()
    assert '"examroom_config": "config"' in setup and config_files.PACKAGE == "examroom_config"
    assert "examroom_config = **/*.toml" in (ROOT / "setup.cfg").read_text()


def test_the_rider_face_is_package_data():
    from examroom.simulation.rider import FACE_FILE

    assert FACE_FILE == files("examroom.simulation") / "rider_face.jpg" and FACE_FILE.is_file()
