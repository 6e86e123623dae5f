"""Candidate look-ups per second the web layer answers, and where the rate limit stops a guesser.

A look-up is the candidate portal's form: ID number, name and 准考证明编号 checked
against the bookings (nothing revealed on a wrong guess). The first figure is the
server's own rate with the limit lifted (wrong guesses, the costly case for an
attacker); the second is what one address gets with the shipped limit.

Run: ``.venv/bin/python bench/candidate_lookup.py [--lookups 500]``
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from examroom.records.database import make_engine, session_factory, upgrade
from examroom.records.attempt_log import CandidateInfo, Records
from examroom_web import create_app


def _client(records: Records, limit: str):
    app = create_app(records, config={"SECRET_KEY": "bench", "CANDIDATE_LOOKUP_LIMIT": limit})
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/candidate/").get_data(as_text=True)).group(1)
    return app, client, token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        upgrade(engine)
        records = Records(session_factory(engine))
        for n in range(1000):
            records.ensure_candidate(CandidateInfo(f"考生{n}", f"6201021990{n:08d}", f"62{n:08d}", "E"))
        app, client, token = _client(records, "1000000 per minute")
        guess = {"csrf_token": token, "id_number": "620102199000000999", "name": "王五", "exam_number": "62999"}
        start = time.perf_counter()
        for _ in range(args.lookups):
            assert client.post("/candidate/", data=guess).status_code == 404
        rate = args.lookups / (time.perf_counter() - start)
        shipped = create_app(records, config={"SECRET_KEY": "x"}).config["CANDIDATE_LOOKUP_LIMIT"]
        app, client, token = _client(records, shipped)
        guess["csrf_token"] = token
        answered = 0
        while client.post("/candidate/", data=guess).status_code == 404:
            answered += 1
    print(f"candidate_lookup: {rate:,.0f} look-ups/s answered by one web process with the limit lifted "
          f"({args.lookups} wrong guesses against 1,000 bookings); with the shipped limit ({shipped}) "
          f"one address gets {answered} answers, then 429")
    return 0


if __name__ == "__main__":
    sys.exit(main())
