"""The exam-day subcommands: sitting, roster, verify, slip, export."""

import json

from examroom.cli.main import main
from examroom.records.database import make_engine, session_factory
from examroom.records.attempt_log import Records
from examroom.records.sealing import PUBLIC_KEY_FILE, Sealer, load_or_create_key
from tests.examroom.attempts import finished_attempt, id_number
from tests.examroom.examday.test_roster import write_csv


def test_sitting_roster_verify_slip_export(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert main(["sitting", "add", "S1", "--opens", "2026-11-30T08:00+08:00", "--starts", "2026-11-30T08:30+08:00",
                 "--ends", "2026-11-30T11:30+08:00", "--course-code", "6201001", "--database", url]) == 0
    assert main(["sitting", "list", "--database", url]) == 0
    assert "S1" in capsys.readouterr().out
    roster = write_csv(tmp_path / "r.csv", [
        ["", "王建国", id_number(51), "620100000051", "", "E", "", "S1", "初考"],
        ["", "李秀英", "620102199001011230", "620100000052", "", "E", "", "S1", "初考"]])
    assert main(["roster", str(roster), "--database", url]) == 1
    out = capsys.readouterr().out
    assert "第3行: 身份证明号码（C列）620102199001011230: 校验码为0" in out and "合格 1 行，不合格 1 行；未导入" in out
    assert main(["roster", str(roster), "--database", url, "--commit", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["imported"] == 1

    engine = make_engine(url)
    sessions = session_factory(engine)
    sealer = Sealer(sessions, load_or_create_key(tmp_path / "data"))
    attempt = finished_attempt(Records(sessions))
    sealer.seal(attempt)
    pinned = tmp_path / "data" / PUBLIC_KEY_FILE
    assert main(["verify", "--all", "--database", url, "--public-key", str(pinned)]) == 0
    assert "verified 1 attempt(s): OK" in capsys.readouterr().out
    assert main(["verify", "--attempt", str(attempt), "--attempt", "99", "--database", url, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == [{"attempt": 99, "where": "attempt", "message": "no such attempt in the database"}]
    assert main(["verify", "--day", "2026-11-29", "--database", url]) == 0
    assert main(["slip", str(attempt), "--database", url, "--out", str(tmp_path / "s.pdf")]) == 0
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF-")
    assert main(["export", "S1", "--database", url, "--out", str(tmp_path / "up")]) == 0
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == [
        "S1-national.SHA256SUMS", "S1-national.csv", "S1-national.json"]
    assert main(["export", "S9", "--database", url, "--out", str(tmp_path / "up")]) == 2
    assert "no sitting 'S9'" in capsys.readouterr().err
    engine.dispose()
