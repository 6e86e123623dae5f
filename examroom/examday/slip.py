"""The result slip (成绩单): a printable A4 PDF in Chinese for one sealed attempt.

It shows the candidate (ID number masked), class, sitting, vehicle, times,
each item with its deductions, the score and verdict, the check-in photo,
signature lines for candidate and examiner, and a QR code whose link verifies
the sealed record: it carries the slip's facts signed with the course key at
sealing (examroom.records.slip_token), so a slip cannot be matched to an altered record
nor a forged slip to a real one; slips of seals made before signed statements
carry the seal digest instead. The text is drawn with a CJK font embedded in the PDF:
WenQuanYi Micro Hei when the Debian package is installed, else reportlab's
built-in STSong-Light (a CID font the reader supplies).
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from examroom import courseclock
from examroom.messages import N_, SupervisorError
from examroom.records.people import mask_id_number
from examroom.records.models import Attempt, AttemptStatus, Booking, Seal, Sitting
from examroom.records.sealing import seal_digest
from examroom.records.deduction_items import ITEM_TITLES, deduction_item

WQY_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
STATUS_TITLES = {AttemptStatus.PASSED.value: "合格", AttemptStatus.FAILED.value: "不合格",
                 AttemptStatus.ABORTED.value: "考试中止", AttemptStatus.DEVICE_FAULT.value: "设备故障",
                 AttemptStatus.INTERRUPTED.value: "中断", AttemptStatus.RUNNING.value: "考试中",
                 AttemptStatus.CHECKED_IN.value: "已检录"}


class SlipError(SupervisorError, ValueError):
    """A slip that cannot be printed (unknown or unsealed attempt)."""


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics

    if "CJK" in pdfmetrics.getRegisteredFontNames():
        return "CJK"
    if WQY_FONT.exists():
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont("CJK", str(WQY_FONT), subfontIndex=0))
        return "CJK"
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def _local(moment: datetime | None) -> str:
    """The course's local time; the slip states its zone once, beside the start time."""
    return courseclock.local_text(moment) or "—"


def verify_link(base_url: str, attempt_id: int, seal: Seal) -> str:
    """The QR code's link: with the signed slip statement, or (seals made before it) the seal digest."""
    page = f"{base_url.rstrip('/')}/{attempt_id}"
    return f"{page}?slip={seal.slip}" if seal.slip else f"{page}?seal={seal_digest(seal)[:32]}"


def render_slip(sessions: sessionmaker[Session], attempt_id: int, verify_base_url: str) -> bytes:
    with sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise SlipError(N_("没有考试%(attempt)s"), attempt=attempt_id)
        seal = session.get(Seal, attempt_id)
        if seal is None:
            raise SlipError(N_("考试%(attempt)s尚未封存（状态：%(status)s）：封存前不出成绩单"), attempt=attempt_id,
                            status=attempt.status)
        booking = session.get(Booking, attempt.booking_id) if attempt.booking_id else None
        sitting = session.get(Sitting, booking.sitting_id) if booking else None
        return _draw(attempt, booking, sitting, seal, verify_link(verify_base_url, attempt_id, seal),
                     f"{verify_base_url.rstrip('/')}/{attempt_id}")


def _draw(attempt: Attempt, booking: Booking | None, sitting: Sitting | None, seal: Seal, link: str,
          page: str) -> bytes:
    # reportlab (about 16 MB) is imported here, when a slip is printed: the web process imports this
    # module for its routes and would otherwise hold it from the start (bench/memory.py).
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    font = _font()
    out = io.BytesIO()
    pdf = Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"科目二成绩单 {attempt.candidate.exam_number}")
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    y = height - 25 * mm
    pdf.setFont(font, 18)
    pdf.drawCentredString(width / 2, y, "机动车驾驶人考试 科目二 成绩单")
    y -= 14 * mm

    candidate = attempt.candidate
    tries = {1: "初考", 2: "补考"}.get(attempt.attempt_no or 0, "—")
    facts = [
        ("姓名", candidate.name), ("身份证明号码", mask_id_number(candidate.id_number)),
        ("准考证明编号", candidate.exam_number), ("准驾车型", attempt.vehicle_class),
        ("考试场次", sitting.code if sitting else "—"), ("考场", f"{attempt.course} {sitting.course_code if sitting else ''}".strip()),
        ("考试车辆", attempt.vehicle.plate), ("本场次第几次", f"第{attempt.attempt_no or 1}次（{tries}）"),
        ("驾校", booking.school if booking and booking.school else "—"), ("评判标准", attempt.rule_set),
        ("开始时间", _local(attempt.started_utc)), ("结束时间", _local(attempt.ended_utc)),
        ("时间", courseclock.zone_note(attempt.started_utc)),
    ]
    pdf.setFont(font, 10.5)
    row_y = y
    for i, (label, value) in enumerate(facts):
        x = left if i % 2 == 0 else left + 62 * mm
        pdf.drawString(x, row_y, f"{label}：{value}")
        if i % 2 == 1:
            row_y -= 7 * mm
    if booking is not None and booking.photo:
        photo_w, photo_h = 28 * mm, 36 * mm
        pdf.drawImage(ImageReader(io.BytesIO(booking.photo)), right - photo_w, y - photo_h + 5 * mm, photo_w, photo_h,
                      preserveAspectRatio=True, anchor="c")
        pdf.setFont(font, 8)
        pdf.drawCentredString(right - photo_w / 2, y - photo_h + 1 * mm, "签到照片")
    y = row_y - 6 * mm

    pdf.setFont(font, 12)
    pdf.drawString(left, y, "考试项目及扣分")
    y -= 2 * mm
    pdf.line(left, y, right, y)
    y -= 6 * mm
    result = attempt.result or {}
    item_types = {i["id"]: i["type"] for i in result.get("items", [])}
    order = [i["id"] for i in result.get("items", [])]
    by_item: dict[str, list] = {}
    for d in attempt.deductions:
        by_item.setdefault(deduction_item(d), []).append(d)
    for item in ["general"] + [i for i in order if i != "general"] + sorted(set(by_item) - set(order) - {"general"}):
        deductions = by_item.get(item, [])
        if item == "general" and not deductions:
            continue
        pdf.setFont(font, 10.5)
        pdf.drawString(left, y, ITEM_TITLES.get(item_types.get(item, item), item))
        lost = sum(d.points for d in deductions)
        pdf.drawRightString(right, y, "不合格" if any(d.disqualify for d in deductions) else
                            (f"扣{lost}分" if lost else "无扣分"))
        y -= 6 * mm
        pdf.setFont(font, 9.5)
        for d in deductions:
            points = "不合格" if d.disqualify else f"-{d.points}"
            value = f"（{d.value}）" if d.value else ""
            pdf.drawString(left + 6 * mm, y, f"{_local(d.utc)[11:]}  {d.code}  {d.title}{value}")
            pdf.drawRightString(right, y, points)
            y -= 5.5 * mm
    y -= 2 * mm
    pdf.line(left, y, right, y)
    y -= 10 * mm
    pdf.setFont(font, 16)
    score = "—" if attempt.score is None else str(attempt.score)
    pdf.drawString(left, y, f"成绩：{score}分    结果：{STATUS_TITLES.get(attempt.status, attempt.status)}")
    if attempt.reason and attempt.status != AttemptStatus.PASSED.value:
        y -= 7 * mm
        pdf.setFont(font, 9.5)
        pdf.drawString(left, y, f"说明：{attempt.reason[:60]}")

    # Signature lines and the QR code sit at the foot of the page.
    base = 45 * mm
    pdf.setFont(font, 11)
    pdf.drawString(left, base + 12 * mm, "考生签名：")
    pdf.line(left + 22 * mm, base + 11 * mm, left + 70 * mm, base + 11 * mm)
    pdf.drawString(left, base, "考试员签名：")
    pdf.line(left + 22 * mm, base - 1 * mm, left + 70 * mm, base - 1 * mm)
    qr = QrCodeWidget(link)
    x0, y0, x1, y1 = qr.getBounds()
    size = 32 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, pdf, right - size, base - 8 * mm)
    pdf.setFont(font, 7.5)
    pdf.drawRightString(right, base - 11 * mm, "扫码核验电子签章记录")
    pdf.drawString(left, 20 * mm, f"签章密钥 {seal.key_id}  签章序号 {seal.seq}  签章时间 {_local(seal.sealed_utc)}")
    pdf.drawString(left, 16 * mm, f"核验地址 {page}（扫码核验成绩单上的签名）")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
