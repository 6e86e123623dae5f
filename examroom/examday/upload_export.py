"""Export a sitting's results for upload, through a pluggable exporter.

The default exporter (``national``) writes the fields of the national 科目二
record (GA/T 1028.3 Annex A as followed by the BUZ_SUB2_RECORD schema,
research.md §4.5) as JSON and CSV, one pair of files per sitting, with a
``SHA256SUMS`` file over both. Each row also carries a SHA-1 校验位 over its own
fields, as the national schema keeps on every record. Only sealed attempts
that verify are exported: an export refuses, naming the problems, otherwise.

A province's interface is added by registering another exporter::

    @register_exporter("gansu")
    class GansuExporter(NationalSubject2Exporter):
        ...
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom import courseclock
from examroom.records.deduction_items import deduction_item
from examroom.records.models import Attempt, AttemptStatus, Booking, Seal, Sitting
from examroom.records.sealing import seal_digest
from examroom.records.spreadsheet_cells import spreadsheet_safe
from examroom.records.verify import verify

EXPORTERS: dict[str, type["NationalSubject2Exporter"]] = {}


class ExportError(ValueError):
    """An export that cannot be made; names the sitting and why."""


def register_exporter(name: str) -> Callable[[type], type]:
    def add(cls: type) -> type:
        EXPORTERS[name] = cls
        cls.name = name
        return cls
    return add


def _stamp(moment: datetime | None) -> str:
    """yyyymmddhhmmss in China time, as the national record has it."""
    return "" if moment is None else courseclock.local(moment, courseclock.CHINA).strftime("%Y%m%d%H%M%S")


@register_exporter("national")
class NationalSubject2Exporter:
    """The national 科目二 exam record, one row per judged attempt of the sitting."""

    name = "national"
    # Item types of the course file → the national per-item deduction field.
    ITEM_FIELDS = {
        "general": "综合评判扣分", "pile": "倒车入库或桩考扣分", "reverse_park": "倒车入库或桩考扣分",
        "hill": "坡道扣分", "side_park": "侧方停车扣分", "bridge": "通过单边桥扣分", "curve": "曲线行驶扣分",
        "right_angle": "直角转弯扣分",
    }
    FIELDS = (
        "考试科目", "准考证明编号", "流水号", "身份证明类型", "身份证明号码", "姓名", "考试原因", "准驾车型",
        "考场代码", "考试场次", "考试车辆号牌", "考试车辆备案序号", "经办人", "代理人", "考试次数", "考试员1", "考试员2",
        "考试成绩", "考试起始时间", "考试结束时间", "选考项目",
        "综合评判扣分", "倒车入库或桩考扣分", "坡道扣分", "侧方停车扣分", "通过单边桥扣分", "曲线行驶扣分", "直角转弯扣分",
        "扣分代码", "考试状态", "签章摘要", "校验位",
    )
    JUDGED = (AttemptStatus.PASSED.value, AttemptStatus.FAILED.value)

    def rows(self, session: Session, sitting: Sitting) -> list[dict]:
        attempts = session.scalars(select(Attempt).join(Booking, Attempt.booking_id == Booking.id)
                                   .where(Booking.sitting_id == sitting.id, Attempt.status.in_(self.JUDGED))
                                   .order_by(Attempt.ended_utc, Attempt.id)).all()
        return [self.row(session, sitting, attempt) for attempt in attempts]

    def row(self, session: Session, sitting: Sitting, attempt: Attempt) -> dict:
        booking = session.get(Booking, attempt.booking_id)
        seal = session.get(Seal, attempt.id)
        item_types = {i["id"]: i["type"] for i in (attempt.result or {}).get("items", [])}
        per_item = {field: 0 for field in self.ITEM_FIELDS.values()}
        for d in attempt.deductions:
            field = self.ITEM_FIELDS.get(item_types.get(deduction_item(d), deduction_item(d)), "综合评判扣分")
            per_item[field] += d.points
        row = {
            "考试科目": "2", "准考证明编号": attempt.candidate.exam_number, "流水号": booking.serial_number,
            "身份证明类型": "A",  # 居民身份证 (GA/T 16 code A)
            "身份证明号码": attempt.candidate.id_number, "姓名": attempt.candidate.name,
            "考试原因": booking.exam_reason, "准驾车型": attempt.vehicle_class,
            "考场代码": sitting.course_code, "考试场次": sitting.code, "考试车辆号牌": attempt.vehicle.plate,
            "考试车辆备案序号": attempt.vehicle.id, "经办人": booking.confirmed_by, "代理人": booking.school,
            "考试次数": attempt.attempt_no or 1, "考试员1": booking.confirmed_by, "考试员2": "",
            "考试成绩": attempt.score, "考试起始时间": _stamp(attempt.started_utc),
            "考试结束时间": _stamp(attempt.ended_utc), "选考项目": "",
            **per_item,
            "扣分代码": ",".join(d.code for d in attempt.deductions),
            "考试状态": "1" if attempt.passed else "0",
            "签章摘要": seal_digest(seal) if seal else "",
        }
        body = "|".join(str(row[f]) for f in self.FIELDS if f != "校验位")
        row["校验位"] = hashlib.sha1(body.encode("utf-8")).hexdigest()
        return row

    def write(self, rows: list[dict], sitting: Sitting, out_dir: Path) -> list[Path]:
        stem = f"{sitting.code}-{self.name}"
        document = {"format": f"examroom {self.name} 科目二 record v1", "sitting": sitting.code,
                    "course_code": sitting.course_code, "exported_utc": datetime.now(timezone.utc).isoformat(),
                    "fields": list(self.FIELDS), "records": rows}
        json_path = out_dir / f"{stem}.json"
        json_path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(self.FIELDS), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({name: spreadsheet_safe(value) for name, value in row.items()} for row in rows)
        csv_path = out_dir / f"{stem}.csv"
        csv_path.write_bytes(text.getvalue().encode("utf-8-sig"))  # BOM: Excel opens it as UTF-8
        return [json_path, csv_path]


def export_sitting(sessions: sessionmaker[Session], sitting_code: str, out_dir: Path,
                   exporter: str = "national") -> list[Path]:
    """Write the sitting's files and their checksums; returns the paths written."""
    cls = EXPORTERS.get(exporter)
    if cls is None:
        raise ExportError(f"no exporter {exporter!r} (known: {', '.join(sorted(EXPORTERS))})")
    with sessions() as session:
        sitting = session.scalar(select(Sitting).where(Sitting.code == sitting_code))
        if sitting is None:
            raise ExportError(f"no sitting {sitting_code!r}")
        ids = list(session.scalars(select(Attempt.id).join(Booking, Attempt.booking_id == Booking.id)
                                   .where(Booking.sitting_id == sitting.id)))
    report = verify(sessions, attempts=ids)
    if not report.ok:
        raise ExportError(f"sitting {sitting_code}: records do not verify, nothing exported:\n"
                          + "\n".join(str(p) for p in report.problems))
    out_dir.mkdir(parents=True, exist_ok=True)
    with sessions() as session:
        sitting = session.get(Sitting, sitting.id)
        instance = cls()
        paths = instance.write(instance.rows(session, sitting), sitting, out_dir)
    sums = out_dir / f"{sitting_code}-{exporter}.SHA256SUMS"
    sums.write_text("".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in paths),
                    encoding="utf-8")
    return paths + [sums]
