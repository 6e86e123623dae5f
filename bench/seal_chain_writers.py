"""Two controllers sealing into one PostgreSQL database at once: seal numbers taken twice, seals/s.

    python bench/seal_chain_writers.py [--attempts 80] [--server postgresql+psycopg://postgres@127.0.0.1:5432]

Makes a database of its own on the server (dropped at the end), writes ``--attempts`` finished
attempts and seals them from two controllers (two engines, two threads, started together):

- one chain, without the chain lock and without the retry: how sealing behaved before the course
  was in the key and the chain was locked (both read seal n as the last and write n + 1);
- one chain (two controllers of one course), with the lock: none may collide;
- two courses (each controller its own course code): two chains, none may collide.

Prints collisions (a seal refused by the unique seal number) and seals per second; exits non-zero
when a locked run collides or a verify fails. Figures depend on the machine: read them, do not
assert them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.exc import IntegrityError  # noqa: E402

import examroom.records.sealing as sealing  # noqa: E402
from examroom.records.attempt_log import Records  # noqa: E402
from examroom.records.database import make_engine, session_factory, upgrade  # noqa: E402
from examroom.records.sealing import Sealer, load_or_create_key  # noqa: E402
from examroom.records.verify import verify  # noqa: E402
from tests.examroom.attempts import finished_attempt  # noqa: E402


def run(url: str, attempts: int, codes: tuple[str, str], locked: bool, key_dir: Path) -> tuple[int, float, bool]:
    """Seal ``attempts`` attempts from two controllers; (collisions, seals/s, every seal verifies)."""
    engines = [make_engine(url) for _ in codes]
    sessions = [session_factory(engine, code) for engine, code in zip(engines, codes)]
    per = attempts // 2
    if codes[0] == codes[1]:
        ids = [finished_attempt(Records(sessions[0]), observations=10) for _ in range(attempts)]
        work = [ids[0::2], ids[1::2]]
    else:
        work = [[finished_attempt(Records(s), observations=10) for _ in range(per)] for s in sessions]
    lock, tries = sealing._lock_chain, sealing.SEAL_TRIES
    if not locked:
        sealing._lock_chain, sealing.SEAL_TRIES = (lambda *_: None), 1
    collisions = []
    start = threading.Barrier(2)

    def seal(sealer, ids):
        start.wait()
        for attempt_id in ids:
            try:
                sealer.seal(attempt_id)
            except IntegrityError:
                collisions.append(attempt_id)

    key = load_or_create_key(key_dir)
    threads = [threading.Thread(target=seal, args=(Sealer(s, key), ids)) for s, ids in zip(sessions, work)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    sealing._lock_chain, sealing.SEAL_TRIES = lock, tries
    verified = all(verify(s, course=code).ok for s, code in zip(sessions, codes)) if locked else True
    for engine in engines:
        engine.dispose()
    return len(collisions), (attempts - len(collisions)) / seconds, verified


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=80)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    admin = create_engine(f"{args.server}/postgres", isolation_level="AUTOCOMMIT")
    failed = False
    with tempfile.TemporaryDirectory(prefix="seal-writers-") as folder:
        for label, codes, locked in (("one chain, no lock (before)", ("4201001", "4201001"), False),
                                     ("one chain, chain lock", ("4201001", "4201001"), True),
                                     ("two courses", ("4201001", "4201002"), True)):
            name = f"examroom_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
            try:
                url = f"{args.server}/{name}"
                engine = make_engine(url)
                upgrade(engine)
                engine.dispose()
                collisions, rate, verified = run(url, args.attempts, codes, locked, Path(folder) / name)
            finally:
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"{label:<30} {collisions:>3} of {args.attempts} seals collided  {rate:7.1f} seals/s"
                  + ("" if verified else "  VERIFY FAILED"))
            failed |= locked and (collisions > 0 or not verified)
    admin.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
