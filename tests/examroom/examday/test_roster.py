"""Booking lists: every row checked, bad rows named with reasons, good rows imported once."""

import csv
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import func, select

from examroom.records.database import session_factory
from examroom.records.people import IdNumberError, validate_id_number
from examroom.records.models import Booking, Candidate
from examroom.examday.roster import RosterError, RosterImport
from examroom.examday.sittings import SittingPlan, create_sitting
from tests.examroom.attempts import id_number

T0 = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
HEADER = ["序号", "姓名", "身份证明号码", "准考证明编号", "流水号", "准驾车型", "驾校", "考试场次", "考试原因"]


def good_rows():
    return [
        ["1", "王建国", id_number(1), "620100000001", "L001", "E", "兰州驾校", "S1", "初考"],
        ["2", "李秀英", id_number(2), "620100000002", "L002", "C4", "兰州驾校", "S1", "补考"],
        ["3", "张伟", id_number(3).lower().replace("x", "x"), "620100000003", "", "e", "", "S2", "初考"],
    ]


def bad_rows():
    wrong_check = id_number(4)[:17] + ("0" if id_number(4)[17] != "0" else "1")
    return [
        ["4", "刘芳", wrong_check, "620100000004", "", "E", "", "S1", "初考"],
        ["5", "陈志强", "62010219901301123X", "620100000005", "", "E", "", "S1", "初考"],
        ["6", "杨丽", id_number(6), "620100000006", "", "C1", "", "S1", "初考"],
        ["7", "赵磊", id_number(7), "620100000007", "", "E", "", "S9", "重考"],
        ["8", "黄海燕", id_number(8), "620100000001", "", "E", "", "S2", "初考"],
        ["9", "", "12345", "620100000009", "", "E", "", "S1", "初考"],
    ]


def write_csv(path, rows, encoding="utf-8-sig"):
    with open(path, "w", newline="", encoding=encoding) as out:
        csv.writer(out).writerows([HEADER] + rows)
    return path


def write_xlsx(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def importer(engine):
    sessions = session_factory(engine)
    for code, hours in (("S1", 0), ("S2", 3)):
        start = T0 + timedelta(hours=hours)
        create_sitting(sessions, SittingPlan(code, start - timedelta(minutes=30), start, start + timedelta(hours=2)))
    return RosterImport(sessions, {"C4", "D", "E", "F"}), sessions


def test_each_bad_row_is_named_with_its_reasons(importer, tmp_path):
    roster, _ = importer
    report = roster.check(write_csv(tmp_path / "day.csv", good_rows() + bad_rows()))
    assert [r.line for r in report.good] == [2, 3, 4]
    bad = {b.line: " ".join(b.reasons) for b in report.bad}
    assert sorted(bad) == [5, 6, 7, 8, 9, 10]
    assert "校验码为" in bad[5] and "按GB 11643应为" in bad[5]
    assert "出生日期19901301不是有效日期" in bad[6]
    assert "准驾车型C1本考场不考" in bad[7]
    assert "考试场次S9不存在" in bad[8] and "考试原因“重考”应为初考或补考" in bad[8]
    assert "准考证明编号620100000001与第2行重复" in bad[9]
    assert "姓名为空" in bad[10] and "长度为5位，应为18位" in bad[10]
    assert str(report.bad[0]).startswith("第5行: ")


def test_nothing_is_written_unless_asked_then_once(importer, tmp_path):
    roster, sessions = importer
    path = write_xlsx(tmp_path / "day.xlsx", good_rows() + bad_rows())
    roster.run(path)
    with sessions() as session:
        assert session.scalar(select(func.count(Booking.id))) == 0
    first = roster.run(path, commit=True)
    assert (first.imported, first.unchanged, len(first.bad)) == (3, 0, 6)
    again = roster.run(path, commit=True)
    assert (again.imported, again.unchanged) == (0, 3)
    with sessions() as session:
        assert session.scalar(select(func.count(Booking.id))) == 3
        assert session.scalar(select(func.count(Candidate.id))) == 3
        zhang = session.scalar(select(Candidate).where(Candidate.name == "张伟"))
        assert zhang.vehicle_class == "E"


def test_gb18030_csv_and_missing_columns(importer, tmp_path):
    roster, _ = importer
    assert len(roster.check(write_csv(tmp_path / "gbk.csv", good_rows(), encoding="gb18030")).good) == 3
    (tmp_path / "cols.csv").write_text("姓名,准驾车型\n王,E\n", encoding="utf-8")
    with pytest.raises(RosterError, match="缺少列 身份证明号码、准考证明编号、考试场次、考试原因"):
        roster.check(tmp_path / "cols.csv")
    (tmp_path / "x.txt").write_text("", encoding="utf-8")
    with pytest.raises(RosterError, match="只支持"):
        roster.check(tmp_path / "x.txt")


# -- issue 13.9: full-width digits are normalised, odd characters name the row and column ----------

def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


@pytest.mark.parametrize("write", [write_csv, write_xlsx])
def test_full_width_digits_are_normalised(importer, tmp_path, write):
    roster, sessions = importer
    number = id_number(31, born="19851203")
    row = ["1", "周杰", _full_width(number.lower()), _full_width("620100000031"), "", "Ｅ", "", "S1", "初考"]
    suffix = ".csv" if write is write_csv else ".xlsx"
    report = roster.run(write(tmp_path / f"w{suffix}", [row]), commit=True)
    assert report.bad == [] and report.imported == 1
    with sessions() as session:
        stored = session.scalar(select(Candidate).where(Candidate.name == "周杰"))
        assert (stored.id_number, stored.exam_number, stored.vehicle_class) == (number, "620100000031", "E")


@pytest.mark.parametrize("odd", ["²", "٣", "〇", "½", "?", "Ｑ"])
def test_odd_characters_in_an_id_number_name_the_row_and_column(importer, tmp_path, odd):
    roster, _ = importer
    number = id_number(32)
    broken = number[:15] + odd + number[16:]  # in the sequence code, after a valid birth date
    report = roster.check(write_csv(tmp_path / "odd.csv", good_rows()[:1] + [
        ["2", "吴敏", broken, "620100000032", "", "E", "", "S1", "初考"]]))
    assert [r.line for r in report.good] == [2]  # the rest of the file is read
    (bad,) = report.bad
    assert bad.line == 3
    shown = broken.replace("Ｑ", "Q")  # full-width letters are read as ASCII, then named
    assert f"身份证明号码（C列）{shown}: 第16位“{odd.replace('Ｑ', 'Q')}”不是数字" in bad.reasons[0], bad.reasons
    assert "invalid literal" not in str(bad)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=16, max_size=20)
       | st.builds(lambda head, odd, tail: head + odd + tail, st.just(id_number(33)[:15]),
                   st.characters(whitelist_categories=("Nd", "No", "Nl")), st.just(id_number(33)[16:])))
def test_any_id_text_is_accepted_as_ascii_or_refused_with_a_reason(text):
    """Whatever a cell holds, the answer is a valid ASCII number or an IdNumberError, never int()'s."""
    try:
        number = validate_id_number(text)
    except IdNumberError as exc:
        assert str(exc) and "invalid literal" not in str(exc)
    else:
        assert len(number) == 18 and number.isascii() and number[:17].isdigit()
