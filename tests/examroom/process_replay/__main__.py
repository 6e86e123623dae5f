"""``python -m tests.examroom.process_replay``: record the process-replay cases again (see the package doc)."""

from tests.examroom.process_replay import record

record()
