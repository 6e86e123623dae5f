"""City replication: lag while connected, and catch-up after a one-hour outage of a busy course.

    python bench/city_replication.py [--lag-samples 300] [--attempts-per-day 400] [--hours-per-day 8]
                                     [--attempt-seconds 300] [--batch-seconds 0.5] [--no-fsync]

Makes two PostgreSQL clusters in a temporary folder with the machine's initdb (a course and a
city, fsync on unless ``--no-fsync``), migrates both, publishes the course and subscribes the
city through ``examroom.city.relay.TcpRelay`` (the link the bench cuts). Then:

1. **Lag while connected.** A running attempt's journal is written through ``Records`` one batch
   (``--batch-seconds`` of 10 Hz poses and 20 Hz signals) every ``--lag-interval`` seconds; after
   each commit returns the bench polls the city (every ~1 ms) until that batch's last row is
   there. Prints p50/p99/max of commit-to-visible-at-the-city.
2. **Catch-up after a one-hour outage.** The relay is cut; the course writes a busy hour
   (``--attempts-per-day / --hours-per-day`` attempts of ``--attempt-seconds`` each, with journal,
   deductions, end and seal, through ``examroom.simulation.busy_course``) as fast as it can; the
   WAL the slot kept is read from the course. The relay is restored and the bench times until the
   city holds the hour's last rows; then it checks every replicated table of the course row for
   row against the city (nothing lost, nothing twice) and exits non-zero if they differ.

Generation uses ``synchronous_commit = off`` for the writer's session only (the WAL it writes is
the same; it saves the bench the fsync wait per commit). Figures depend on the machine: they are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from examroom.city import replication  # noqa: E402
from examroom.city.clusters import Cluster, find_binaries  # noqa: E402
from examroom.city.errors import CityError  # noqa: E402
from examroom.city.relay import TcpRelay  # noqa: E402
from examroom.city.watch import human_bytes, slot_states  # noqa: E402
from examroom.records.attempt_log import CandidateInfo, Records  # noqa: E402
from examroom.records.database import keyed_tables, make_engine, session_factory  # noqa: E402
from examroom.records.people import id_check_character  # noqa: E402
from examroom.records.sealing import Sealer, load_or_create_key  # noqa: E402
from examroom.simulation.busy_course import AttemptShape, BusyCourse  # noqa: E402
from scoring.observations import Command, CommandAction, FixQuality, Gear, Pose, Signals  # noqa: E402

CODE = "4201001"
START = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lag-samples", type=int, default=300)
    parser.add_argument("--lag-interval", type=float, default=0.2, help="seconds between journal commits")
    parser.add_argument("--attempts-per-day", type=int, default=400)
    parser.add_argument("--hours-per-day", type=float, default=8.0)
    parser.add_argument("--attempt-seconds", type=float, default=300.0)
    parser.add_argument("--batch-seconds", type=float, default=0.5,
                        help="journal commit batch (the controller commits every 0.05 s; 0.5 keeps the bench short)")
    parser.add_argument("--no-fsync", action="store_true", help="throwaway clusters (no fsync)")
    args = parser.parse_args()

    try:
        binaries = find_binaries()
    except CityError as exc:
        print(f"skipped: {exc}")
        return 0
    folder = Path(tempfile.mkdtemp(prefix="city-bench-", dir="/tmp"))
    folder.chmod(0o755)  # the server account must reach its cluster folders when run as root
    course = city = relay = None
    engines = []
    try:
        course = Cluster.make(folder / "course", durable=not args.no_fsync, binaries=binaries).start()
        city = Cluster.make(folder / "city", durable=not args.no_fsync, binaries=binaries).start()
        course_db = make_engine(course.create_database())
        city_db = make_engine(city.create_database())
        writer_db = create_engine(course_db.url, connect_args={"options": "-c synchronous_commit=off"})
        engines += [course_db, city_db, writer_db]
        replication.prepare_course(course_db, CODE)
        replication.prepare_city(city_db)
        relay = TcpRelay(("127.0.0.1", course.port)).start()
        replication.subscribe(city_db, CODE, course.conninfo(port=relay.port))
        _wait(lambda: replication.sync_state(city_db, CODE).done, 60, "the first copy")
        print(f"PostgreSQL {binaries}; fsync {'off' if args.no_fsync else 'on'}; course and city on this machine")

        lags = _lag_while_connected(course_db, city_db, args)
        print(f"replication lag while connected (commit at the course -> row visible at the city), "
              f"{len(lags)} journal batches of {args.batch_seconds:g} s every {args.lag_interval:g} s:")
        print(f"  p50 {_ms(_pct(lags, 50))}  p99 {_ms(_pct(lags, 99))}  max {_ms(max(lags))}  "
              f"mean {_ms(statistics.fmean(lags))}")

        shape = AttemptShape(seconds=args.attempt_seconds, batch_s=args.batch_seconds)
        sealer = Sealer(session_factory(writer_db), load_or_create_key(folder))
        busy = BusyCourse(Records(session_factory(writer_db)), CODE, shape=shape, sealer=sealer)
        relay.cut()
        _wait(lambda: not any(s.active for s in slot_states(course_db)), 60, "the city's worker to let go")
        began = time.perf_counter()
        ids = busy.hour(START + timedelta(hours=2), first=1000,
                        attempts_per_day=args.attempts_per_day, hours_per_day=args.hours_per_day)
        written_s = time.perf_counter() - began
        course_counts = _counts(course_db)
        hour_rows = sum(course_counts.values()) - sum(_counts(city_db).values())
        slot = next(s for s in slot_states(course_db) if s.slot == replication.slot_name(CODE))
        print(f"one busy hour written with the link cut: {len(ids)} attempts "
              f"({args.attempts_per_day}/day over {args.hours_per_day:g} h), "
              f"{course_counts['journal'] - _city_count(city_db, 'journal'):,} journal rows "
              f"({shape.journal_rows} per attempt), {hour_rows:,} rows in all, written in {written_s:.1f} s")
        print(f"  WAL held for the city by the slot: {human_bytes(slot.retained_bytes)} "
              f"(behind {human_bytes(slot.behind_bytes)})")

        last_attempt, last_journal = ids[-1], _max_id(course_db, "journal")
        restored = time.perf_counter()
        relay.restore()
        _wait(lambda: _city_has(city_db, last_attempt, last_journal), 3600, "the city to catch up")
        catch_up = time.perf_counter() - restored
        print(f"catch-up after the one-hour outage: {catch_up:.1f} s from the link's restore "
              f"({hour_rows / catch_up:,.0f} rows/s, the reconnection included)")
        city_counts = _counts(city_db)
        same = all(_digest(course_db, t) == _digest(city_db, t) for t in keyed_tables())
        print(f"  city == course, table by table (row texts, counts): {'yes' if same else 'NO'}; "
              f"rows: {sum(course_counts.values()):,} at the course, {sum(city_counts.values()):,} at the city")
        return 0 if same and city_counts == course_counts else 1
    finally:
        if relay is not None:
            relay.close()
        for engine in engines:
            engine.dispose()
        for cluster in (city, course):
            if cluster is not None:
                cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _lag_while_connected(course_db, city_db, args) -> list[float]:
    records = Records(session_factory(course_db))
    records.ensure_vehicle("V9", "鄂A·9999学", "E", "E-HJ110")
    first17 = "42010219900101999"
    candidate = records.ensure_candidate(CandidateInfo("考生", first17 + id_check_character(first17), "LAG0001", "E"))
    attempt = records.check_in(candidate, "V9", "demo", "ga1026-2022", START)
    records.mark_running(attempt, START)
    head = records.append_journal(attempt, [(1, Command(t=0.0, utc=START, vehicle="V9", action=CommandAction.START,
                                                        vehicle_class="E", vehicle_model="E-HJ110"))])
    seq, t, lags = 1, 0.0, []
    with city_db.connect() as probe:
        query = text("SELECT max(id) FROM journal WHERE course_key = :c")
        next_due = time.perf_counter()
        for _ in range(args.lag_samples):
            rows = []
            for _ in range(round(args.batch_seconds * 30)):  # 10 Hz poses + 20 Hz signals
                t += 1 / 30
                seq += 1
                at = START + timedelta(seconds=t)
                rows.append((seq, Pose(t=t, utc=at, vehicle="V9", x=t, y=1.0, heading=90.0, speed=1.0,
                                       fix=FixQuality.RTK_FIXED, satellites=18, hdop=0.7) if seq % 3 == 0 else
                             Signals(t=t, utc=at, vehicle="V9", ignition=True, engine=True, starter=False,
                                     gear=Gear.G1, helmet=True)))
            head = records.append_journal(attempt, rows, prev_hash=head)
            committed = time.perf_counter()
            target = _max_id(course_db, "journal")
            while (probe.execute(query, {"c": CODE}).scalar() or 0) < target:
                probe.commit()  # a new snapshot each poll
                time.sleep(0.001)
            probe.commit()
            lags.append(time.perf_counter() - committed)
            next_due += args.lag_interval
            time.sleep(max(0.0, next_due - time.perf_counter()))
    return lags


def _counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {t: connection.execute(text(f'SELECT count(*) FROM "{t}" WHERE course_key = :c'), {"c": CODE}).scalar()
                for t in keyed_tables()}


def _city_count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f'SELECT count(*) FROM "{table}" WHERE course_key = :c'), {"c": CODE}).scalar()


def _max_id(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f'SELECT max(id) FROM "{table}" WHERE course_key = :c'), {"c": CODE}).scalar()


def _city_has(city_db, attempt_id: int, journal_id: int) -> bool:
    with city_db.connect() as connection:
        sealed = connection.execute(text("SELECT 1 FROM seals WHERE course_key = :c AND attempt_id = :a"),
                                    {"c": CODE, "a": attempt_id}).first()
        return sealed is not None and (_max_id(city_db, "journal") or 0) >= journal_id


def _digest(engine, table) -> tuple[int, str]:
    with engine.connect() as connection:
        return tuple(connection.execute(text(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "
            f'FROM "{table}" t WHERE course_key = :c'), {"c": CODE}).one())


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


if __name__ == "__main__":
    sys.exit(main())
