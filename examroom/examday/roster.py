"""The day's booking list (预约名单) from 交管12123: read, validate every row, import.

A roster is a CSV (UTF-8 or GB18030, as exported by Excel on a Chinese
desktop) or an .xlsx file whose first row names the columns. Every row is
checked — the ID number against GB 11643, the class against what this course
examines, the sitting against the sittings on record, the exam reason — and
the report names each bad row by its line number in the file with every reason.
Nothing is written unless asked; then only the good rows are, and importing
the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom.records.people import IdNumberError, fold_full_width, validate_id_number
from examroom.records.models import Booking, BookingState, Candidate, Sitting

# Column → accepted header spellings (the 12123 export and common hand-made variants).
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "考生姓名"),
    "id_number": ("身份证明号码", "身份证号码", "身份证号"),
    "exam_number": ("准考证明编号", "准考证明编号/流水号", "准考证号"),
    "serial_number": ("流水号",),
    "vehicle_class": ("准驾车型", "考试车型"),
    "school": ("驾校", "驾驶培训机构", "培训机构"),
    "sitting": ("考试场次", "场次"),
    "exam_reason": ("考试原因",),
}
REQUIRED = ("name", "id_number", "exam_number", "vehicle_class", "sitting", "exam_reason")
EXAM_REASONS = ("初考", "补考")
_LABEL = {key: names[0] for key, names in COLUMNS.items()}
_CODES = ("id_number", "exam_number", "serial_number", "vehicle_class", "sitting", "exam_reason")


class RosterError(ValueError):
    """A roster file that cannot be read at all (format, missing columns)."""


@dataclass(frozen=True)
class RosterRow:
    line: int  # row number in the file as a person sees it (header = 1)
    name: str
    id_number: str
    exam_number: str
    serial_number: str
    vehicle_class: str
    school: str
    sitting: str
    exam_reason: str


@dataclass(frozen=True)
class BadRow:
    line: int
    reasons: tuple[str, ...]
    values: dict

    def __str__(self) -> str:
        return f"第{self.line}行: " + "；".join(self.reasons)


@dataclass
class RosterReport:
    source: str
    good: list[RosterRow] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    imported: int = 0  # bookings written by this import
    unchanged: int = 0  # good rows already on record exactly so

    def as_dict(self) -> dict:
        return {"source": self.source, "good": len(self.good), "imported": self.imported,
                "unchanged": self.unchanged,
                "bad": [{"line": b.line, "reasons": list(b.reasons), "values": b.values} for b in self.bad]}


def read_table(path: Path) -> list[list[str]]:
    """The file's cells as text, row by row (first row: the header)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several types for a broken file
            raise RosterError(f"{path.name}: 不是有效的 .xlsx 文件 ({exc})") from None
        sheet = book.worksheets[0]
        rows = [["" if v is None else _cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterError(f"{path.name}: 既不是 UTF-8 也不是 GB18030 编码")
        return [row for row in csv.reader(io.StringIO(text))]
    raise RosterError(f"{path.name}: 只支持 .csv 和 .xlsx 文件")


def _cell_text(value) -> str:
    # Excel keeps long digit strings as numbers when typed without a leading quote.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_rows(table: list[list[str]], source: str) -> list[tuple[RosterRow, list[str]]]:
    """Every data row with the reasons found in the row alone (empty: fine so far)."""
    if not table:
        raise RosterError(f"{source}: 文件为空")
    header = [h.strip() for h in table[0]]
    index: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                index[key] = i
                break
    missing = [_LABEL[k] for k in REQUIRED if k not in index]
    if missing:
        raise RosterError(f"{source}: 缺少列 {'、'.join(missing)}（表头为：{'、'.join(header)}）")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        values = {key: (cells[i].strip() if i < len(cells) else "") for key, i in index.items()}
        # Codes typed on a Chinese keyboard come full-width (６２０１…, Ｅ): read them as ASCII.
        for key in _CODES:
            if key in values:
                values[key] = fold_full_width(values[key]).strip()
        values.setdefault("serial_number", "")
        values.setdefault("school", "")
        reasons = [f"{_LABEL[k]}为空" for k in REQUIRED if not values[k]]
        if values["id_number"]:
            try:
                values["id_number"] = validate_id_number(values["id_number"])
            except IdNumberError as exc:
                reasons.append(f"身份证明号码（{_column_letter(index['id_number'])}列）{values['id_number']}: {exc}")
        if values["exam_reason"] and values["exam_reason"] not in EXAM_REASONS:
            reasons.append(f"考试原因“{values['exam_reason']}”应为初考或补考")
        values["vehicle_class"] = values["vehicle_class"].upper()
        rows.append((RosterRow(line=number, **values), reasons))
    return rows


def _column_letter(index: int) -> str:
    """A 0-based column index as a spreadsheet names it: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class RosterImport:
    """Validate a roster against this course and the sittings on record; import when asked."""

    def __init__(self, sessions: sessionmaker[Session], examined_classes: set[str]) -> None:
        self._sessions = sessions
        self.examined_classes = examined_classes

    def check(self, path: Path) -> RosterReport:
        rows = parse_rows(read_table(path), path.name)
        report = RosterReport(source=path.name)
        seen_exam: dict[str, int] = {}
        seen_person: dict[tuple[str, str], int] = {}
        with self._sessions() as session:
            sittings = {s.code for s in session.scalars(select(Sitting))}
            for row, reasons in rows:
                if row.vehicle_class and row.vehicle_class not in self.examined_classes:
                    reasons.append(f"准驾车型{row.vehicle_class}本考场不考（可考：{'、'.join(sorted(self.examined_classes))}）")
                if row.sitting and row.sitting not in sittings:
                    reasons.append(f"考试场次{row.sitting}不存在")
                if row.exam_number and row.exam_number in seen_exam:
                    reasons.append(f"准考证明编号{row.exam_number}与第{seen_exam[row.exam_number]}行重复")
                if (row.id_number, row.sitting) in seen_person:
                    reasons.append(f"同一考生在本场次重复预约（第{seen_person[(row.id_number, row.sitting)]}行）")
                known = session.scalar(select(Candidate).where(Candidate.exam_number == row.exam_number))
                if known is not None and row.exam_number and known is not None and (known.id_number, known.name) != (row.id_number, row.name):
                    reasons.append(f"准考证明编号{row.exam_number}已登记给另一考生（{known.name}）")
                if reasons:
                    report.bad.append(BadRow(row.line, tuple(reasons), row.__dict__ | {}))
                else:
                    report.good.append(row)
                seen_exam.setdefault(row.exam_number, row.line)
                seen_person.setdefault((row.id_number, row.sitting), row.line)
        report.bad.sort(key=lambda b: b.line)
        return report

    def run(self, path: Path, commit: bool = False) -> RosterReport:
        """Check the file; with ``commit``, write the good rows (all in one transaction)."""
        report = self.check(path)
        if not commit:
            return report
        with self._sessions.begin() as session:
            sittings = {s.code: s.id for s in session.scalars(select(Sitting))}
            for row in report.good:
                candidate = session.scalar(select(Candidate).where(Candidate.exam_number == row.exam_number))
                if candidate is None:
                    candidate = Candidate(name=row.name, id_number=row.id_number, exam_number=row.exam_number,
                                          vehicle_class=row.vehicle_class)
                    session.add(candidate)
                    session.flush()
                sitting_id = sittings[row.sitting]
                booking = session.scalar(select(Booking).where(Booking.sitting_id == sitting_id,
                                                               Booking.candidate_id == candidate.id))
                fields = dict(serial_number=row.serial_number, vehicle_class=row.vehicle_class, school=row.school,
                              exam_reason=row.exam_reason)
                if booking is None:
                    session.add(Booking(sitting_id=sitting_id, candidate_id=candidate.id, state=BookingState.BOOKED.value,
                                        confirmed_by="", photo_sha256="", tries=0, outcome="", **fields))
                    report.imported += 1
                elif all(getattr(booking, k) == v for k, v in fields.items()):
                    report.unchanged += 1
                else:
                    # A changed booking row is a conflict to settle by hand, never a silent overwrite.
                    report.bad.append(BadRow(row.line, ("与已导入的预约信息不一致",), row.__dict__ | {}))
        report.good = [r for r in report.good if all(b.line != r.line for b in report.bad)]
        return report


PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class PhotoReport:
    """Reference photos read from a folder (one file per candidate, named by ID number)."""

    folder: str
    attached: list[str] = field(default_factory=list)  # file names attached to a booking (or to attach)
    unchanged: list[str] = field(default_factory=list)  # already that booking's reference
    unmatched: list[str] = field(default_factory=list)  # no booking waiting for check-in with that ID number
    bad: list[str] = field(default_factory=list)  # "file: why" (name, picture)
    no_face: list[str] = field(default_factory=list)  # attached, but the picture gives no usable face: "file: why"

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def import_reference_photos(sessions: sessionmaker[Session], folder: Path, importer: str,
                            commit: bool = False) -> PhotoReport:
    """Attach each photo in ``folder`` as the reference photo of its candidate's bookings not yet checked in.

    A file is named by the candidate's ID number (``620102199001011234.jpg``; .jpg, .jpeg or
    .png); the face descriptor is computed as it is attached (where the face models are
    installed), and a photo without a usable face is attached but named in the report, so the
    check-in falls to the supervisor's decision. Nothing is written unless ``commit``.
    """
    from examroom.examday.checkin import CheckInError, check_photo
    from examroom.faces.identity import set_reference, sha256

    report = PhotoReport(folder=str(folder))
    if not folder.is_dir():
        raise RosterError(f"{folder}: 不是文件夹")
    with (sessions.begin() if commit else sessions()) as session:
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES):
            try:
                number = validate_id_number(fold_full_width(path.stem).strip())
            except IdNumberError as exc:
                report.bad.append(f"{path.name}: 文件名应为身份证明号码（{exc}）")
                continue
            photo = path.read_bytes()
            try:
                check_photo(photo)
            except CheckInError as exc:
                report.bad.append(f"{path.name}: {exc}")
                continue
            bookings = session.scalars(select(Booking).join(Candidate, Booking.candidate_id == Candidate.id)
                                       .where(Candidate.id_number == number,
                                              Booking.state == BookingState.BOOKED.value)).all()
            if not bookings:
                report.unmatched.append(path.name)
                continue
            if all(b.reference_sha256 == sha256(photo) for b in bookings):
                report.unchanged.append(path.name)
                continue
            report.attached.append(path.name)
            if commit:
                for booking in bookings:
                    reading = set_reference(booking, photo, "roster", importer)
                if reading is not None and reading.descriptor is None:
                    report.no_face.append(f"{path.name}: {reading.unclear}")
    return report


def examined_classes(course) -> set[str]:
    """The classes this course has items for."""
    return {cls for item in course.items.values() for cls in item.classes}
