"""SignalBoard against SignalBoardSimulator over the null modem."""

import threading

from devices.signalboard import THREE_WHEELER, SignalBoard, SignalBoardSimulator, SignalState
from tests.devices.conftest import wait_for


class Truth:
    def __init__(self, state):
        self.state = state
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            return self.state


def test_frames_arrive_and_changes_are_sent_at_once(modem):
    truth = Truth(SignalState(frozenset({"ignition"}), "N", 0.0))
    got = []
    with SignalBoardSimulator(modem.a, truth, rate=20) as sim, SignalBoard(modem.b, got.append) as board:
        wait_for(lambda: len(got) >= 3)
        truth.state = SignalState(frozenset({"ignition", "engine", "helmet", "left_footpeg"}), "1", 12.3)
        sim.wake()
        f = wait_for(lambda: next((x for x in got if "engine" in x.flags), None), timeout=10)
        h = wait_for(lambda: (lambda h: h if h.rate > 10 else None)(board.health()))
    assert f.flags == {"ignition", "engine", "helmet", "left_footpeg"}
    assert f.gear == "1" and f.roll == 12.3 and "seatbelt" not in f.present
    assert h.alive and h.frames_dropped == 0 and h.extra["sequence_gaps"] == 0
    seqs = [x.sequence for x in got]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_bad_checksum_is_counted_and_not_delivered(modem):
    truth = Truth(SignalState(frozenset({"ignition", "seatbelt"}), "N", None))
    got = []
    with SignalBoardSimulator(modem.a, truth, present=THREE_WHEELER, rate=50) as sim, \
            SignalBoard(modem.b, got.append) as board:
        wait_for(lambda: len(got) >= 2)
        for how in ("checksum", "truncate", "field"):
            sim.corrupt_next(how)
        wait_for(lambda: board.health().frames_dropped >= 3)
        n = len(got)
        wait_for(lambda: len(got) >= n + 2)
        h = board.health()
    assert h.frames_dropped == 3
    assert h.extra["drops"] == {"bad_checksum": 1, "truncated": 1, "malformed_fields": 1}
    seqs = [x.sequence for x in got]
    assert len(seqs) == len(set(seqs)) and h.extra["sequence_gaps"] == 3
    assert all(x.roll is None and x.flags == {"ignition", "seatbelt"} for x in got)


def test_a_sequence_that_goes_back_is_believed_only_when_the_next_continues_it():
    from datetime import datetime, timezone

    from devices.signalboard.driver import SignalBoardDriver
    from devices.signalboard.protocol import MOTORCYCLE, SignalState, encode

    def line(seq, roll):
        return (encode(seq, MOTORCYCLE, SignalState(frozenset({"ignition"}), "N", roll)) + "\r\n").encode()

    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    drv = SignalBoardDriver("test://")
    # "$EXSIG,15,...,19.4" with two '1's lost keeps its XOR: it reads as sequence 5, roll 9.4.
    frames = drv.feed(line(13, 1.0) + line(14, 1.0) + line(5, 9.4) + line(16, 1.0), 0.0, t)
    assert [f.sequence for f in frames] == [13, 14, 16] and drv.counts["sequence_back"] == 1
    frames = drv.feed(line(0, 2.0) + line(1, 2.0) + line(2, 2.0), 0.0, t)  # the board restarted
    assert [f.sequence for f in frames] == [1, 2]
