"""Files that leave the course open safely in a spreadsheet: no cell runs as a formula."""

import csv
import io

import pytest
from hypothesis import given, settings, strategies as st

from examroom.records.spreadsheet_cells import FORMULA_STARTS, spreadsheet_safe


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://evil.example\",\"点我\")", "'=HYPERLINK(\"http://evil.example\",\"点我\")"),
    ("+86 138", "'+86 138"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("王建国", "王建国"), ("兰州驾校", "兰州驾校"), ("", ""), (90, 90), (-5, -5), (None, None),
])
def test_formula_starts_are_escaped_and_nothing_else(value, expected):
    assert spreadsheet_safe(value) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_no_escaped_text_starts_a_formula_and_the_rest_is_kept(text):
    safe = spreadsheet_safe(text)
    assert not safe.startswith(FORMULA_STARTS)
    assert safe == text or safe == "'" + text
    # CSV round trip keeps it exactly
    out = io.StringIO()
    csv.writer(out).writerow([safe])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == [safe]
