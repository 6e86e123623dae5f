"""Sealing and verifying rates, and the hash-chained journal's write rate.

    python bench/seal_verify.py [--attempts 200] [--rows 1800] [--database URL]

Writes ``--attempts`` finished attempts with ``--rows`` journal rows each (a
60 s attempt at 10 Hz GNSS + 20 Hz signals is about 1,800 rows) through
Records in batches of 5 rows (the controller commits at least every 50 ms),
then seals them all and verifies them all. Prints rows/s, attempts sealed/s
and attempts verified/s. SQLite in a temporary folder by default.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examroom.records.database import make_engine, session_factory, upgrade  # noqa: E402
from examroom.records.people import id_check_character  # noqa: E402
from examroom.records.models import AttemptStatus  # noqa: E402
from examroom.records.attempt_log import CandidateInfo, Records  # noqa: E402
from examroom.records.sealing import Sealer, load_or_create_key  # noqa: E402
from examroom.records.verify import verify  # noqa: E402
from scoring.observations import Command, CommandAction, FixQuality, Pose  # noqa: E402

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1800)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--database", help="database URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seal-bench-") as folder:
        engine = make_engine(args.database or f"sqlite:///{folder}/bench.sqlite3")
        upgrade(engine)
        sessions = session_factory(engine)
        records = Records(sessions)
        sealer = Sealer(sessions, load_or_create_key(Path(folder)))
        records.ensure_vehicle("V1", "甘K·0001学", "E", "E-01")
        ids, journal_seconds = [], 0.0
        for n in range(args.attempts):
            first17 = f"62010219900101{n % 1000:03d}"
            candidate = records.ensure_candidate(CandidateInfo("张三", first17 + id_check_character(first17),
                                                               f"B{n:010d}", "E"))
            attempt = records.check_in(candidate, "V1", "demo", "ga1026-2022", UTC)
            records.mark_running(attempt, UTC)
            rows = [(1, Command(t=0.0, utc=UTC, vehicle="V1", action=CommandAction.START, vehicle_class="E",
                                vehicle_model="E-01"))]
            rows += [(i, Pose(t=i / 30, utc=UTC + timedelta(seconds=i / 30), vehicle="V1", x=i * 0.01, y=2.0,
                              heading=90.0, speed=1.5, fix=FixQuality.RTK_FIXED, satellites=18, hdop=0.7))
                     for i in range(2, args.rows + 1)]
            head, start = None, time.perf_counter()
            for b in range(0, len(rows), args.batch):
                head = records.append_journal(attempt, rows[b:b + args.batch], prev_hash=head)
            journal_seconds += time.perf_counter() - start
            records.finish(attempt, AttemptStatus.PASSED, UTC, result={"score": 100, "passed": True})
            ids.append(attempt)
        start = time.perf_counter()
        for attempt in ids:
            sealer.seal(attempt)
        seal_seconds = time.perf_counter() - start
        start = time.perf_counter()
        report = verify(sessions)
        verify_seconds = time.perf_counter() - start
        engine.dispose()
    assert report.ok and len(report.checked) == len(ids), report.problems
    total_rows = args.attempts * args.rows
    print(f"database: {engine.url.get_backend_name()}; {args.attempts} attempts x {args.rows} journal rows, "
          f"batches of {args.batch}")
    print(f"journal write (hash-chained, one transaction per batch): {total_rows / journal_seconds:,.0f} rows/s, "
          f"{total_rows / args.batch / journal_seconds:,.0f} commits/s")
    print(f"sealed: {args.attempts / seal_seconds:,.1f} attempts/s")
    print(f"verified (signature + record + whole journal chain): {args.attempts / verify_seconds:,.1f} attempts/s "
          f"({total_rows / verify_seconds:,.0f} journal rows/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
