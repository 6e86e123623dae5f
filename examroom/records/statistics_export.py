"""The statistics page's figures as files an office opens: CSV and an .xlsx workbook.

Both files hold one table, a row per bar of the page's charts, so a number read
on the screen is the number in the file. The caller names the columns and the
rows (the web layer translates them); every text cell goes through
``spreadsheet_safe``, since an examiner's display name or a course name is typed
by a person. CSV starts with a byte-order mark: without it a spreadsheet opened
on a Chinese Windows desktop reads UTF-8 as GBK and shows mojibake.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Sequence


from examroom.records.spreadsheet_cells import spreadsheet_safe

PERCENT_DECIMALS = 1  # the CSV's rate column, in percent


@dataclass(frozen=True)
class FigureRow:
    """One bar of a chart: the group it counts, attempts, passes (None where only counted) and its rate."""

    section: str
    key: str
    attempts: int
    passed: int | None

    @property
    def rate(self) -> float | None:
        if self.passed is None or not self.attempts:
            return None
        return self.passed / self.attempts


def csv_bytes(columns: Sequence[str], rows: Sequence[FigureRow]) -> bytes:
    """The rows as UTF-8 CSV (with BOM): section, group, attempts, passed, rate in percent."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(c) for c in columns])
    for row in rows:
        rate = "" if row.rate is None else f"{row.rate * 100:.{PERCENT_DECIMALS}f}"
        writer.writerow([spreadsheet_safe(row.section), spreadsheet_safe(row.key), row.attempts,
                         "" if row.passed is None else row.passed, rate])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(sheet_title: str, columns: Sequence[str], rows: Sequence[FigureRow],
               about_title: str, about: Sequence[tuple[str, str]]) -> bytes:
    """The rows as a workbook: one sheet of figures (rates as numbers in percent format) and one describing them."""
    # openpyxl (about 16 MB) is imported when a workbook is asked for, not with the web process's routes.
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    sheet.append([spreadsheet_safe(c) for c in columns])
    for row in rows:
        sheet.append([spreadsheet_safe(row.section), spreadsheet_safe(row.key), row.attempts, row.passed, row.rate])
        sheet.cell(row=sheet.max_row, column=5).number_format = "0.0%"
    sheet.freeze_panes = "A2"
    for index, width in enumerate((18, 22, 10, 10, 10), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    notes = book.create_sheet(about_title)
    for name, value in about:
        notes.append([spreadsheet_safe(name), spreadsheet_safe(value)])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 40
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
