"""The city's weekly review draw: its speed, its reproducibility and how evenly it draws.

A week of nine courses with 1,500 finished attempts each (2 % of them always reviewed). Prints
the attempts drawn over per second on one core; how many of the re-runs (attempts shuffled, the
same seed) gave the same sample (must be all: a difference exits non-zero); and, over many seeds,
how often each attempt was drawn against the share (the spread of the per-attempt frequency and
the lowest and highest). With the PostgreSQL server at 127.0.0.1:5432, also the whole weekly
draw at the city (``ReviewBook.reveal_and_draw``: reading each course's attempts, their classes
and verifying every one's seal and journal, then drawing) over attempts written as a course writes
them, in attempts per second.

Run: ``.venv/bin/python bench/city_draw.py [--seeds 300] [--city-attempts 300]``
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import time

from examroom.city.sampling import Attempt, draw

ALWAYS = ("manual_fail", "device_fault", "override", "seal_warning")
COURSES = [f"42010{n:02d}" for n in range(1, 10)]
PER_COURSE = 1500
SHARE = 0.05


def week(rng: random.Random) -> dict[str, list[Attempt]]:
    return {course: [Attempt(course, i, frozenset({rng.choice(ALWAYS)}) if rng.random() < 0.02 else frozenset())
                     for i in range(1, PER_COURSE + 1)] for course in COURSES}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--city-attempts", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(16)
    attempts = week(rng)
    total = sum(len(a) for a in attempts.values())

    began = time.process_time()
    for course, listed in attempts.items():
        draw(b"\x07" * 32, listed, SHARE, ALWAYS)
    cpu = time.process_time() - began
    print(f"draw: {total} attempts of {len(COURSES)} courses in {cpu * 1000:.0f} ms CPU = {total / cpu:,.0f} attempts/s")

    same = 0
    for n in range(20):
        seed = hashlib.sha256(f"re-run {n}".encode()).digest()
        first = {c: draw(seed, a, SHARE, ALWAYS) for c, a in attempts.items()}
        shuffled = {c: rng.sample(a, len(a)) for c, a in attempts.items()}
        again = {c: draw(seed, a, SHARE, ALWAYS) for c, a in shuffled.items()}
        same += first == again
    print(f"reproducibility: {same} of 20 re-runs (attempts shuffled, same seed) gave the same sample")

    course, listed = COURSES[0], attempts[COURSES[0]]
    plain = [a.id for a in listed if not a.classes]
    counts = dict.fromkeys(plain, 0)
    for n in range(args.seeds):
        for d in draw(hashlib.sha256(f"seed {n}".encode()).digest(), listed, SHARE, ALWAYS):
            if d.id in counts:
                counts[d.id] += 1
    rate = [c / args.seeds for c in counts.values()]
    expected = min(1.0, -(-SHARE * len(listed) // 1) / len(plain))
    print(f"evenness over {args.seeds} seeds: each plain attempt drawn {statistics.mean(rate):.4f} of the time "
          f"(expected {expected:.4f}), spread (sd) {statistics.pstdev(rate):.4f} "
          f"(binomial sd {(expected * (1 - expected) / args.seeds) ** 0.5:.4f}), lowest {min(rate):.4f}, "
          f"highest {max(rate):.4f}")
    city_draw(args.city_attempts)
    return 0 if same == 20 else 1


def city_draw(count: int) -> None:
    import tempfile
    import uuid
    from datetime import timedelta
    from pathlib import Path

    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from examroom.city.attempt_classes import week_of
    from examroom.city.review_book import ReviewBook
    from examroom.city.watch_settings import SamplingSettings
    from tests.examroom.city.city_records import MONDAY, CourseWriter, china, city_engine

    server = "postgresql+psycopg://postgres@127.0.0.1:5432"
    admin = create_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
    name = f"examroom_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError:
        print("city draw: no PostgreSQL server at 127.0.0.1:5432, not measured")
        return
    try:
        engine = city_engine(f"{server}/{name}")
        _, starts, ends = week_of(MONDAY)
        with tempfile.TemporaryDirectory() as keys:
            writers = [CourseWriter(engine, code, Path(keys) / code) for code in COURSES[:3]]
            for n in range(count):
                writers[n % 3].attempt(str(n), china(MONDAY, 8) + timedelta(minutes=n), manual=n % 50 == 0)
        book = ReviewBook(engine, "420100", SamplingSettings(SHARE, ALWAYS))
        book.commit_week(MONDAY, "bench", starts - timedelta(hours=1))
        began = time.perf_counter()
        sampled = book.reveal_and_draw(book.published(week_of(MONDAY)[0])["week"], "bench", ends)
        wall = time.perf_counter() - began
        print(f"city draw on PostgreSQL: {count} attempts (3 courses, each with a 20-row journal, every seal verified) "
              f"in {wall:.2f} s = {count / wall:,.0f} attempts/s; {len(sampled)} sampled")
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
