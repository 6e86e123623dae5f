"""``python -m tests.examroom.station.process_replay``: record the process-replay cases again (see the package doc)."""

from tests.examroom.station.process_replay import record

record()
