"""`examroom rules`: the effective rule set of a class, with province and course overrides."""

import json

from examroom.cli import main as cli
from tests.scoring.streams import ROOT

PROVINCE = ROOT / "config" / "rules" / "provinces" / "example.toml"
RULES_2012 = ROOT / "config" / "rules" / "ga1026-2012.toml"


def _json(capsys, *args):
    assert cli.main(["rules", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_rules_for_c3(capsys):
    data = _json(capsys, "--class", "C3")
    ids = {r["id"] for r in data["rules"]}
    assert {"reverse.not_in_bay", "parallel.time_limit", "curve.edge_line_touched", "angle.turn_signal",
            "hill.parking_brake", "general.seatbelt"} <= ids
    assert not {"general.helmet", "pile.stop", "bridge.stop", "field.stops"} & ids
    assert data["vehicle_class"] == "C3" and len(data["hash"]) == 64
    assert [layer["kind"] for layer in data["layers"]] == ["standard"]


def test_rules_with_province_and_course(capsys, tmp_path):
    course = tmp_path / "c.toml"
    text = (ROOT / "config" / "courses" / "demo.toml").read_text(encoding="utf-8")
    course.write_text(text + '\n[overrides]\nsource = "course decision"\n'
                      '[overrides.rules."pile.stop".duration]\nvalue = 3.0\nunit = "s"\n', encoding="utf-8")
    data = _json(capsys, "--class", "E", "--province", str(PROVINCE), "--course", str(course))
    assert data["id"] == "ga1026-2022+province:示例省+course:陇南演示考场"
    stop = next(r for r in data["rules"] if r["id"] == "pile.stop")
    assert stop["params"]["duration"]["value"] == 3.0 and stop["history"][0]["source"] == "course decision"
    assert [layer["kind"] for layer in data["layers"]] == ["standard", "province", "course"]


def test_rules_2012(capsys):
    data = _json(capsys, "--rules", str(RULES_2012), "--class", "E")
    assert data["standard"] == "GA 1026-2012"
    assert next(r for r in data["rules"] if r["id"] == "bridge.wheel_not_mounted")["points"] == 20


def test_bad_province_file_is_one_clear_line(capsys, tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text('scope = "province"\nname = "x"\nsource = "s"\n[rules."pile.nope"]\nenabled = false\n',
                   encoding="utf-8")
    assert cli.main(["rules", "--province", str(bad)]) == 2
    assert "rules.pile.nope: no such rule in ga1026-2022" in capsys.readouterr().err
