"""``examroom devices check --site FILE``: the pre-sitting self-check from a terminal.

Run it before the controller starts (it opens every configured device itself;
ports are exclusive, so it cannot run beside ``examroom serve``, whose
supervisor page shows the same check live). It waits ``settle`` seconds for
the devices, prints each one's state, then guides the walk-round, ticking off
each course sensor as it fires, and stores the outcome in the database like
the controller does. Exit status 0 when the check passed, 1 when not.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

KIND_NAMES = {"gnss": "定位", "signalboard": "信号板", "courseboard": "场地板"}


def add_parser(sub) -> None:
    devices = sub.add_parser("devices", help="device tools")
    devices_sub = devices.add_subparsers(dest="devices_command", required=True)
    check = devices_sub.add_parser("check", help="pre-sitting self-check (场地信号检测) of a site's devices")
    check.add_argument("--site", type=Path, required=True, help="site settings (TOML)")
    check.add_argument("--settle", type=float, default=3.0, help="seconds to wait for the devices (default 3)")
    check.add_argument("--walk-timeout", type=float, default=300.0, help="seconds for the walk-round (default 300)")
    check.add_argument("--no-walk", action="store_true", help="check the devices only, no walk-round")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(run=run)


def run(args) -> int:
    return run_check(args.site, settle=args.settle, walk_timeout=args.walk_timeout, walk=not args.no_walk,
                     as_json=args.json)


def run_check(site, settle: float = 3.0, walk_timeout: float = 300.0, walk: bool = True,
              as_json: bool = False, out=None) -> int:
    # Imported here: every other command builds its parser from this module too.
    from sqlalchemy.exc import SQLAlchemyError

    from devices.readings import SystemClock
    from devices.runner import DeviceRunner
    from examroom.records.database import claim_course, make_engine, session_factory, upgrade
    from examroom.site.settings import check_against_course, load_settings
    from examroom.station.device_health import device_status
    from examroom.station.hardware import build_drivers
    from examroom.station.selfcheck import SelfCheck, SittingChecks
    from scoring.course import load_course

    out = out or sys.stdout
    settings = load_settings(site)
    course = load_course(settings.course_file)
    check_against_course(settings, course)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    logging.getLogger("devices").setLevel(logging.ERROR)  # the report says what each device lacks
    clock = SystemClock()
    _, started = clock.now()
    check = SelfCheck(settings, course, started)
    runners = [DeviceRunner(driver, check.observe, clock=clock) for driver in build_drivers(settings).values()]

    def report() -> dict:
        mono, utc = clock.now()
        return check.report([device_status(r, None, mono) for r in runners], utc)

    for runner in runners:
        runner.start()
    try:
        time.sleep(settle)
        first = report()
        if not as_json:
            _print_devices(first, out)
        if walk and first["sensors_total"] and not as_json:
            print(f"\n巡场检测：请逐一触碰各桩杆、按压各桥面开关（{first['sensors_total']} 个传感器，"
                  f"限时 {walk_timeout:g} 秒）", file=out, flush=True)
        done: set[str] = set()
        deadline = time.monotonic() + (walk_timeout if walk else 0.0)
        while True:
            now = report()
            for s in now["sensors"]:
                if s["fired"] and s["element"] not in done:
                    done.add(s["element"])
                    if not as_json:
                        print(f"  ✓ {s['element']}  ({len(done)}/{now['sensors_total']})", file=out, flush=True)
            if len(done) == now["sensors_total"] or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        final = report()
    finally:
        for runner in runners:
            runner.stop()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine, settings.course_code)
        claim_course(engine, settings.course_code)
        _, utc = clock.now()
        check_id = SittingChecks(session_factory(engine)).save(None, final, started, utc)
    except SQLAlchemyError as exc:
        raise OSError(f"cannot store the check in {settings.database_url}: {getattr(exc, 'orig', exc)}") from None
    finally:
        engine.dispose()
    if as_json:
        print(json.dumps({"check": check_id, **final}, ensure_ascii=False, indent=2), file=out)
    else:
        pending = [s["element"] for s in final["sensors"] if not s["fired"]]
        if pending:
            print(f"\n未触发：{'、'.join(pending)}", file=out)
        if not first["devices_ok"] and final["devices_ok"]:
            print("设备在巡场期间恢复正常。", file=out)
        elif not final["devices_ok"]:
            _print_devices(final, out)
        verdict = "通过" if final["passed"] else "未通过（开考需考场负责人登记放行）"
        print(f"\n场地信号检测 #{check_id}：{verdict}", file=out)
    return 0 if final["passed"] else 1


def _print_devices(report: dict, out) -> None:
    print("设备检测：", file=out)
    for d in report["devices"]:
        mark = "✓" if d["ok"] else "✗"
        rate = "-" if d["rate"] is None else f"{d['rate']:g}/{d['expected_rate']:g} Hz"
        extra = f"  {d['fix_text']}" if d["fix_text"] else ""
        problems = "；".join(d["problems"])
        print(f"  {mark} {d['device']:<18} {KIND_NAMES.get(d['kind'], d['kind'])}  {rate}{extra}"
              f"{'  ' + problems if problems else ''}", file=out, flush=True)
