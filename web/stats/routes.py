"""Pass rates by item, class, hour, examiner, vehicle and day, drawn as charts and downloadable as CSV and .xlsx.

The page and both downloads are built from one list of charts, so a figure
read on the screen is the figure in the file. Who may see what is the page's
rule for all three: an auditor sees only the courses of their scope.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, render_template, request
from flask_babel import gettext as _

from examroom.accounts.users import Role
from examroom import courseclock
from examroom.records.statistics import Statistics, compute
from examroom.records.statistics_export import FigureRow, csv_bytes, xlsx_bytes
from examroom_web.params import FIRST_DAY, LAST_DAY
from examroom_web.people import person_name
from examroom_web.security import roles, visible_courses
from examroom_web.services import records
from examroom_web.stats import bp
from examroom_web.stats.charts import NARROW, WIDE, Layout, RateChart, count_chart, rate_chart


# The order the shipped courses drive their items in (demo: pile, hill, bridge; c3: reverse … angle),
# so a chart reads like a run over the course rather than alphabetically by internal id.
ITEM_ORDER = ("pile", "reverse", "hill", "parallel", "curve", "angle", "bridge", "field")


def _in_course_order(rates):
    return sorted(rates, key=lambda r: (ITEM_ORDER.index(r.key) if r.key in ITEM_ORDER else len(ITEM_ORDER), r.key))


def item_name(item_type: str) -> str:
    """A course item's type as the national standard names it."""
    return {
        "pile": _("桩考"),
        "hill": _("坡道定点停车和起步"),
        "bridge": _("通过单边桥"),
        "reverse": _("倒车入库"),
        "parallel": _("侧方停车"),
        "curve": _("曲线行驶"),
        "angle": _("直角转弯"),
        "field": _("场地驾驶"),
    }.get(item_type, item_type)


def class_name(code: str) -> str:
    """A licence class with its name: the code alone means little to a visitor from the county office."""
    names = {"C1": _("小型汽车"), "C2": _("小型自动挡汽车"), "C3": _("低速载货汽车"), "C4": _("三轮汽车"),
             "C5": _("残疾人专用小型自动挡载客汽车"), "D": _("普通三轮摩托车"), "E": _("普通二轮摩托车"),
             "F": _("轻便摩托车")}
    return f"{code} {names[code]}" if code in names else code


def hour_span(key: str) -> str:
    hour = int(key)
    return f"{hour:02d}:00–{hour + 1:02d}:00"


def _zone() -> ZoneInfo:
    """The course's zone (the site file's, examroom.courseclock): days and hours are counted in it."""
    return courseclock.zone()


def _zone_text(zone: ZoneInfo) -> str:
    return _("北京时间") if zone.key == courseclock.DEFAULT_ZONE else zone.key


def _day(name: str, title: str) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(400, description=_("%(field)s：请填写形如 2026-11-29 的日期", field=title))
    if not FIRST_DAY <= day <= LAST_DAY:
        abort(400, description=_("%(field)s：请填写 %(first)s 至 %(last)s 之间的日期", field=title,
                                 first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))
    return day


def _query() -> tuple[Statistics, date | None, date | None, ZoneInfo]:
    since, until = _day("since", _("起始日期")), _day("until", _("截止日期"))
    if since and until and since > until:
        abort(400, description=_("起始日期 %(since)s 晚于截止日期 %(until)s，请调换后再查询",
                                 since=since.isoformat(), until=until.isoformat()))
    zone = _zone()
    return compute(records().sessions, since=since, until=until, courses=visible_courses(), zone=zone), \
        since, until, zone


def charts(stats: Statistics, layout: Layout = WIDE) -> list[RateChart]:
    """The pass-rate charts, in the order the page shows them and the downloads list them."""
    return [
        rate_chart("item", _("按考试项目合格率"), _("考试项目"), _in_course_order(stats.by_item), stats.rate, item_name,
                   layout),
        rate_chart("class", _("按准驾车型合格率"), _("准驾车型"), stats.by_class, stats.rate, class_name, layout),
        rate_chart("hour", _("按开考时段合格率"), _("开考时段"), stats.by_hour, stats.rate, hour_span, layout),
        rate_chart("examiner", _("按考试员合格率"), _("考试员"), stats.by_examiner, stats.rate, person_name, layout),
        rate_chart("vehicle", _("按考试车辆合格率"), _("考试车辆"), stats.by_vehicle, stats.rate, str, layout),
        rate_chart("day", _("按日期合格率"), _("考试日期"), stats.by_day, stats.rate, str, layout),
    ]


def _range_text(since: date | None, until: date | None) -> str:
    return _("%(since)s 至 %(until)s", since=since.isoformat() if since else _("最早"),
             until=until.isoformat() if until else _("最近"))


@bp.get("/")
@roles(Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR)
def overview():
    stats, since, until, zone = _query()
    hours = count_chart(_("每小时开考人次"), stats.per_hour, lambda h: f"{h:02d}")
    # Each chart twice: beside-the-bar names for wide screens, names above the bars for phones (CSS picks).
    pairs = list(zip(charts(stats), charts(stats, NARROW)))
    return render_template("stats.html", stats=stats, charts=pairs, hours=hours, zone=_zone_text(zone),
                           since=since.isoformat() if since else "", until=until.isoformat() if until else "",
                           range_text=_range_text(since, until),
                           query={k: v for k, v in (("since", since), ("until", until)) if v})


def _rows(stats: Statistics) -> list[FigureRow]:
    rows = [FigureRow(chart.title, bar.name, bar.rate.attempts, bar.rate.passed)
            for chart in charts(stats) for bar in chart.bars]
    title = _("每小时开考人次")
    return rows + [FigureRow(title, hour_span(f"{h:02d}"), n, None) for h, n in stats.per_hour]


def _columns() -> list[str]:
    return [_("统计维度"), _("分组"), _("考试人次"), _("合格人次"), _("%(name)s（%(unit)s）", name=_("合格率"), unit="%")]


def _file_name(since: date | None, until: date | None, extension: str) -> str:
    return f"statistics_{since or 'start'}_{until or 'now'}.{extension}"


@bp.get("/export.csv")
@roles(Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR)
def export_csv():
    stats, since, until, _zone_info = _query()
    return Response(csv_bytes(_columns(), _rows(stats)), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={_file_name(since, until, 'csv')}"})


@bp.get("/export.xlsx")
@roles(Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR)
def export_xlsx():
    stats, since, until, zone = _query()
    courses = visible_courses()
    about = [(_("统计范围"), _range_text(since, until)), (_("时间"), _zone_text(zone)),
             (_("考场"), "、".join(courses) if courses is not None else _("全部考场")),
             (_("考试人次"), str(stats.attempts)), (_("有结果的考试"), str(stats.judged)),
             (_("总体合格率"), f"{stats.rate * 100:.1f}%"),
             (_("生成时间"), courseclock.local(datetime.now(timezone.utc), zone).strftime("%Y-%m-%d %H:%M")),
             (_("说明"), _("合格率只计合格与不合格的考试；中止和设备故障的考试不计入"))]
    body = xlsx_bytes(_("合格率"), _columns(), _rows(stats), _("说明"), about)
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={_file_name(since, until, 'xlsx')}"})
