"""The ``examroom`` command line: ``rules`` and ``judge``, their output and their errors.

Most tests call :func:`examroom.cli.main.main` in-process (capsys); one runs the
command as a real process, so the exit status through ``sys.exit`` is checked
too. The scripted attempts end with exactly the expected deductions when their
journal is re-judged with ``examroom judge``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from examroom.cli import main as cli
from examroom.simulation.scenarios import scenario, scenario_keys
from scoring.observations import write_jsonl

ROOT = Path(__file__).resolve().parents[3]
DEMO_COURSE = ROOT / "config" / "courses" / "demo.toml"
RULES_FILE = ROOT / "config" / "rules" / "ga1026-2022.toml"
START_UTC = datetime(2026, 11, 29, 3, 11, 55, tzinfo=timezone.utc)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_journal(path: Path, vehicle_class: str, name: str) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(write_jsonl(scenario(vehicle_class, name).observations(start_utc=START_UTC)))
    return path


@pytest.fixture(scope="module")
def hill_short(tmp_path_factory) -> Path:
    return write_journal(tmp_path_factory.mktemp("cli") / "hill_short.jsonl", "E", "hill_short")


@pytest.fixture(scope="module")
def shipped_rules() -> list[dict]:
    return tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))["rules"]


# ----------------------------------------------------------------------------- rules


def test_rules_json_lists_every_rule_with_title_and_source(capsys, shipped_rules):
    code, out, err = run(capsys, "rules", "--json")
    assert (code, err) == (0, "")
    table = json.loads(out)
    assert table["id"] == "ga1026-2022"
    assert table["vehicle_class"] is None
    ids = [r["id"] for r in table["rules"]]
    assert ids == [r["id"] for r in shipped_rules]
    assert len(set(ids)) == len(ids)
    for rule in table["rules"]:
        assert rule["title"] and rule["source"], rule["id"]
    by_id = {r["id"]: r for r in table["rules"]}
    minor = by_id["hill.stop_offset_minor"]
    assert minor["title"] == "停车后，汽车前保险杠或者摩托车前轴未定于桩杆线上，且前后不超出50cm"
    assert (minor["code"], minor["points"], minor["disqualify"]) == ("20303", 10, False)
    touched = by_id["pile.pole_touched"]
    assert touched["title"] == "碰擦桩杆"
    assert touched["disqualify"] is True
    assert "general.seatbelt" in by_id and "bridge.wheel_dropped" in by_id


def test_rules_for_one_class_lists_only_its_rules(capsys):
    _, out, _ = run(capsys, "rules", "--json")
    every = json.loads(out)["rules"]
    code, out, err = run(capsys, "rules", "--class", "E", "--json")
    assert (code, err) == (0, "")
    table = json.loads(out)
    assert table["vehicle_class"] == "E"
    ids = [r["id"] for r in table["rules"]]
    assert ids == [r["id"] for r in every if "E" in r["classes"]]
    assert all("E" in r["classes"] for r in table["rules"])
    assert "general.helmet" in ids and "pile.pole_touched" in ids and "hill.stop_offset_minor" in ids
    assert "general.seatbelt" not in ids  # a motorcycle has no seat belt
    assert len(ids) < len(every)


def test_rules_text_has_one_line_per_rule(capsys):
    _, out, _ = run(capsys, "rules", "--json")
    count = len(json.loads(out)["rules"])
    code, out, err = run(capsys, "rules")
    assert (code, err) == (0, "")
    table = json.loads(run(capsys, "rules", "--json")[1])
    lines = out.splitlines()
    assert lines[0] == f"ga1026-2022  ({count} rules)  sha256 {table['hash']}"
    assert len(lines) == count + 1 + len(table["layers"])  # the header, one per layer, one per rule
    touched = next(line for line in lines if "pile.pole_touched" in line)
    assert "90202" in touched and "不合格" in touched and "碰擦桩杆" in touched


# ----------------------------------------------------------------------------- judge


def test_judge_json_of_a_short_hill_stop(capsys, hill_short):
    code, out, err = run(capsys, "judge", hill_short, "--course", DEMO_COURSE, "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert (report["score"], report["passed"], report["status"]) == (90, True, "passed")
    assert report["vehicle_class"] == "E"
    [deduction] = report["deductions"]
    assert deduction["rule"] == "hill.stop_offset_minor"
    assert (deduction["code"], deduction["points"], deduction["disqualify"]) == ("20303", 10, False)
    assert deduction["item"] == "e_hill"
    hill = next(i for i in report["items"] if i["id"] == "e_hill")
    assert hill["started_t"] < deduction["t"] < hill["finished_t"]
    moment = datetime.fromisoformat(deduction["utc"].replace("Z", "+00:00"))
    assert abs(moment - (START_UTC + timedelta(seconds=deduction["t"]))) < timedelta(milliseconds=1)
    assert deduction["value"] == pytest.approx(0.40, abs=0.05)
    assert [i["id"] for i in report["items"]] == ["e_pile", "e_hill", "e_bridge"]


def test_judge_text_of_a_short_hill_stop(capsys, hill_short):
    code, out, err = run(capsys, "judge", hill_short, "--course", DEMO_COURSE)
    assert (code, err) == (0, "")
    header, *deductions = out.splitlines()
    assert header.split() == ["passed", "合格", "成绩", "90"]
    [line] = deductions
    assert "e_hill" in line and "hill.stop_offset_minor" in line and "20303" in line and "-10" in line
    assert "停车后" in line


def test_judge_text_of_a_failed_attempt(capsys, tmp_path):
    journal = write_journal(tmp_path / "pole.jsonl", "E", "pole_touch")
    code, out, err = run(capsys, "judge", journal, "--course", DEMO_COURSE)
    assert (code, err) == (0, "")
    header, line = out.splitlines()
    assert header.split() == ["failed", "不合格", "成绩", "0"]
    assert "pile.pole_touched" in line and "不合格" in line and "e_pile" in line


def test_judge_reads_stdin(capsys, monkeypatch, hill_short):
    monkeypatch.setattr(sys, "stdin", io.StringIO(hill_short.read_text(encoding="utf-8")))
    code, out, err = run(capsys, "judge", "-", "--course", DEMO_COURSE, "--json")
    assert (code, err) == (0, "")
    assert [d["rule"] for d in json.loads(out)["deductions"]] == ["hill.stop_offset_minor"]


# By name: building the scenarios (their routes) at collection would cost every worker seconds.
@pytest.mark.parametrize("vehicle_class,name", scenario_keys(), ids=lambda value: value)
def test_scripted_attempt_rejudged_gets_exactly_its_expected_deductions(capsys, tmp_path, vehicle_class, name):
    sc = scenario(vehicle_class, name)
    journal = write_journal(tmp_path / f"{sc.name}.jsonl", sc.vehicle_class, sc.name)
    code, out, err = run(capsys, "judge", journal, "--course", DEMO_COURSE, "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert tuple(d["rule"] for d in report["deductions"]) == sc.expected.rules
    assert (report["score"], report["passed"]) == (sc.expected.score, sc.expected.passed)
    assert report["vehicle_class"] == sc.vehicle_class


def test_judge_as_a_real_process(tmp_path, hill_short):
    command = [sys.executable, "-m", "examroom.cli.main", "judge", str(hill_short), "--course", str(DEMO_COURSE),
               "--json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    report = json.loads(done.stdout)
    assert (report["score"], report["passed"]) == (90, True)
    assert [d["rule"] for d in report["deductions"]] == ["hill.stop_offset_minor"]

    missing = tmp_path / "missing.jsonl"
    command[4] = str(missing)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "missing.jsonl" in done.stderr


# ----------------------------------------------------------------------------- broken inputs


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("original,broken,field", [
    ("piles = 5", "piles = 1", "items[0].piles"),
    ("wheelbase = 1.25", 'wheelbase = "long"', "vehicles[0].wheelbase"),
])
def test_broken_course_file(capsys, tmp_path, hill_short, original, broken, field):
    text = DEMO_COURSE.read_text(encoding="utf-8")
    assert text.count(f"\n{original}\n") == 1
    course = tmp_path / "broken.toml"
    course.write_text(text.replace(f"\n{original}\n", f"\n{broken}\n"), encoding="utf-8")
    code, out, err = run(capsys, "judge", hill_short, "--course", course, "--json")
    assert (code, out) == (2, "")
    line = one_line(err)
    assert line.startswith("examroom judge: ")
    assert "broken.toml" in line and field in line


def test_course_file_that_is_not_toml(capsys, tmp_path, hill_short):
    course = tmp_path / "garbled.toml"
    course.write_text("name = \n[[items]\n", encoding="utf-8")
    code, out, err = run(capsys, "judge", hill_short, "--course", course)
    assert (code, out) == (2, "")
    assert "garbled.toml" in one_line(err)


@pytest.mark.parametrize("spoil,expect", [
    (lambda line: line[:-1] + ',"colour":"red"}', ["unknown field", "colour"]),
    (lambda line: line.replace('"kind":"pose"', '"kind":"teleport"'), ["unknown kind", "teleport"]),
    (lambda line: line[: len(line) // 2], ["not JSON"]),
    (lambda line: line.replace('"fix":"rtk_fixed"', '"fix":"excellent"'), ["fix"]),
], ids=["unknown_field", "unknown_kind", "not_json", "bad_value"])
def test_journal_with_a_bad_line(capsys, tmp_path, hill_short, spoil, expect):
    lines = hill_short.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, start=1) if n > 10 and '"kind":"pose"' in line)
    lines[number - 1] = spoil(lines[number - 1])
    journal = tmp_path / "bad.jsonl"
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "judge", journal, "--course", DEMO_COURSE, "--json")
    assert (code, out) == (2, "")
    line = one_line(err)
    assert f"bad.jsonl:{number}:" in line
    for word in expect:
        assert word in line


def test_missing_journal(capsys, tmp_path):
    code, out, err = run(capsys, "judge", tmp_path / "nowhere.jsonl", "--course", DEMO_COURSE, "--json")
    assert (code, out) == (2, "")
    assert "nowhere.jsonl" in one_line(err)


def test_missing_course_file(capsys, tmp_path, hill_short):
    code, out, err = run(capsys, "judge", hill_short, "--course", tmp_path / "nowhere.toml")
    assert (code, out) == (2, "")
    assert "nowhere.toml" in one_line(err)


def test_journal_without_a_start_command(capsys, tmp_path, hill_short):
    lines = hill_short.read_text(encoding="utf-8").splitlines()
    journal = tmp_path / "headless.jsonl"
    journal.write_text("\n".join(line for line in lines if '"action":"start"' not in line) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "judge", journal, "--course", DEMO_COURSE)
    assert (code, out) == (2, "")
    assert "start" in one_line(err)


def test_users_add_reads_the_password_from_stdin(tmp_path, monkeypatch, capsys):
    import io

    from examroom.accounts.users import Accounts
    from examroom.cli.main import main
    from examroom.records.database import make_engine, session_factory

    url = f"sqlite:///{tmp_path / 'course.sqlite3'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    assert main(["users", "add", "wang", "--role", "supervisor", "--name", "王考试员", "--database", url]) == 0
    assert "created supervisor wang" in capsys.readouterr().out
    from datetime import datetime, timezone

    account = Accounts(session_factory(make_engine(url))).authenticate(
        "wang", "a long enough secret", datetime.now(timezone.utc))
    assert account.display_name == "王考试员"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "li", "--role", "auditor", "--database", url]) == 2
    assert "at least 10 characters" in capsys.readouterr().err


def test_users_passwd_and_disable_end_the_sessions(tmp_path, monkeypatch, capsys):
    import io
    from datetime import datetime, timezone

    from examroom.accounts.users import Accounts, LoginRefused
    from examroom.cli.main import main
    from examroom.records.database import make_engine, session_factory, upgrade
    from examroom.accounts.login_sessions import LoginSessions

    url = f"sqlite:///{tmp_path / 'course.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    account = Accounts(sessions).create("wang", "a long enough secret", "supervisor")
    now = datetime.now(timezone.utc)
    token = LoginSessions(sessions).open(account.id, now)
    monkeypatch.setattr("sys.stdin", io.StringIO("another long secret\n"))
    assert main(["users", "passwd", "wang", "--database", url]) == 0
    assert "1 session(s) ended" in capsys.readouterr().out
    assert LoginSessions(sessions).user_of(token, now) is None
    assert Accounts(sessions).authenticate("wang", "another long secret", now).username == "wang"
    assert main(["users", "disable", "wang", "--database", url]) == 0
    with pytest.raises(LoginRefused):
        Accounts(sessions).authenticate("wang", "another long secret", now)
    assert main(["users", "disable", "nobody", "--database", url]) == 2
