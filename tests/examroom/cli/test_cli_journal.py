"""`examroom judge` on journals people hand it: malformed lines, cut streams, rule sets by name."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from examroom.cli import main as cli
from examroom.simulation.scenarios import scenario
from scoring.observations import write_jsonl

ROOT = Path(__file__).resolve().parents[3]
DEMO_COURSE = ROOT / "config" / "courses" / "demo.toml"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def write_journal(path: Path, vehicle_class: str, name: str) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(write_jsonl(scenario(vehicle_class, name).observations()))
    return path


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return write_journal(tmp_path_factory.mktemp("journal") / "clean.jsonl", "E", "clean")


def _first(lines: list[str], kind: str, after: int = 10) -> int:
    return next(n for n, line in enumerate(lines, start=1) if n > after and f'"kind":"{kind}"' in line)


def _set(name: str, text: str):
    """Replace the value of the number field ``name`` with ``text``."""
    return lambda line: re.sub(rf'"{name}":[-0-9.eE]+', lambda _m: f'"{name}":{text}', line, count=1)


SPOILS = {
    "helmet_false_string": ("signals", lambda l: l.replace('"helmet":true', '"helmet":"false"'), "'helmet'"),
    "helmet_no_string": ("signals", lambda l: l.replace('"helmet":true', '"helmet":"no"'), "'helmet'"),
    "number_as_string": ("pose", _set("speed", '"1.5"'), "'speed'"),
    "nan": ("pose", _set("x", "NaN"), "'x'"),
    "infinity": ("signals", _set("t", "Infinity"), "'t'"),
    "null_number": ("pose", _set("y", "null"), "'y'"),
    "deep_nesting": ("pose", _set("heading", "[" * 50_000 + "]" * 50_000), "'heading'"),
    "time_backwards": ("pose", _set("t", "0.001"), "time goes backwards"),
}


@pytest.mark.parametrize("kind,spoil,field", SPOILS.values(), ids=SPOILS.keys())
def test_a_malformed_line_is_one_line_naming_line_and_field_exit_2_no_verdict(capsys, tmp_path, clean, kind,
                                                                             spoil, field):
    lines = clean.read_text(encoding="utf-8").splitlines()
    number = _first(lines, kind, after=len(lines) // 2)
    lines[number - 1] = spoil(lines[number - 1])
    journal = tmp_path / "bad.jsonl"
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "judge", journal, "--course", DEMO_COURSE)
    assert (code, out) == (2, "")
    line = one_line(err)
    assert line.startswith(f"examroom judge: {journal}:{number}: {kind}: ")
    assert field in line


def test_a_line_that_is_not_utf8_is_named(capsys, tmp_path, clean):
    data = clean.read_bytes().splitlines()
    number = _first([d.decode() for d in data], "signals")
    data[number - 1] = data[number - 1].replace(b'"vehicle":"', b'"vehicle":"\xff', 1)
    journal = tmp_path / "latin.jsonl"
    journal.write_bytes(b"\n".join(data) + b"\n")
    code, out, err = run(capsys, "judge", journal, "--course", DEMO_COURSE)
    assert (code, out) == (2, "")
    assert f"latin.jsonl:{number}: not UTF-8" in one_line(err)


def test_malformed_line_as_a_real_process_has_no_traceback(tmp_path, clean):
    lines = clean.read_text(encoding="utf-8").splitlines()
    number = _first(lines, "signals")
    lines[number - 1] = lines[number - 1].replace('"helmet":true', '"helmet":"false"')
    journal = tmp_path / "bad.jsonl"
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "examroom.cli.main", "judge", str(journal), "--course", str(DEMO_COURSE)],
                          cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert one_line(done.stderr).endswith(f"bad.jsonl:{number}: signals: field 'helmet': expected `bool | null`, "
                                          f"got `str`")


# ----------------------------------------------------------------------------- no verdict


def test_a_stream_cut_before_any_item_finished_is_unfinished(capsys, tmp_path, clean):
    lines = clean.read_text(encoding="utf-8").splitlines()
    journal = tmp_path / "cut.jsonl"
    journal.write_text("\n".join(lines[:40]) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "judge", journal, "--course", DEMO_COURSE)
    assert (code, err) == (0, "")
    assert out.split()[:2] == ["unfinished", "未完成"] and "no verdict" in out
    assert "不合格" not in out and "running" not in out and "成绩" not in out


def test_a_stream_cut_mid_attempt_is_unfinished_in_json_too(capsys, tmp_path, clean):
    lines = clean.read_text(encoding="utf-8").splitlines()
    journal = tmp_path / "cut.jsonl"
    journal.write_text("\n".join(lines[: len(lines) // 2]) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "judge", journal, "--course", DEMO_COURSE)
    assert code == 0 and out.startswith("unfinished  未完成")
    code, out, _ = run(capsys, "judge", journal, "--course", DEMO_COURSE, "--json")
    report = json.loads(out)
    assert (report["status"], report["passed"]) == ("running", False)
    assert report["items"] and not all(item["finished_t"] for item in report["items"])


def test_a_whole_clean_attempt_still_passes(capsys, clean):
    code, out, _ = run(capsys, "judge", clean, "--course", DEMO_COURSE)
    assert code == 0 and out.split()[:4] == ["passed", "合格", "成绩", "100"]


# ----------------------------------------------------------------------------- rule set names


def test_rules_by_name(capsys, clean):
    code, out, err = run(capsys, "judge", clean, "--course", DEMO_COURSE, "--rules", "ga1026-2012", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["rule_set"].startswith("ga1026-2012")
    code, out, _ = run(capsys, "rules", "--rules", "ga1026-2012", "--json")
    assert code == 0 and json.loads(out)["standard"] == "GA 1026-2012"


def test_an_unknown_rule_set_name_lists_the_shipped_ones(capsys, clean):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["judge", str(clean), "--rules", "ga1026-1999"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "'ga1026-1999'" in err and "ga1026-2012, ga1026-2022" in err and "Traceback" not in err


def test_a_rule_set_path_still_works(capsys, clean):
    path = ROOT / "config" / "rules" / "ga1026-2012.toml"
    code, out, _ = run(capsys, "judge", clean, "--course", DEMO_COURSE, "--rules", path, "--json")
    assert code == 0 and json.loads(out)["rule_set"].startswith("ga1026-2012")
