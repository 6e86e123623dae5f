"""Reply timing at chosen instants: a late reply is never the next poll's reading, on any machine.

A loaded host delays a board's reply (or the thread that reads it) past the
driver's timeout and its drain; the reply then lands in the next
transaction's window, alone, and looks exactly like the answer to the next
request (RTU has no transaction id). These tests make those instants on
purpose over a timed lockstep cable (:mod:`tests.devices.courseboard.timed_board`):
every reply carries the number of the request it answers, so a reading whose
number is not its own poll's request is stale or foreign.
"""

from __future__ import annotations

import os
import tty
from datetime import datetime, timezone

import pytest
import serial
from hypothesis import HealthCheck, given, settings, strategies as st

from devices.courseboard.driver import CourseBoardDriver
from devices.nullmodem import NullModem
from tests.devices.courseboard.peer import reply
from tests.devices.courseboard.timed_board import TimedBoard, content, stale_or_foreign

T = 0.05  # the driver's timeout in these tests (its poll interval is 0.05 too)


def scripted(script: dict, polls: int, **kwargs):
    """Poll a board that sends, after request n arrives, [(delay, m)]: the honest reply to
    request m, ``delay`` later (by default its own reply after 2 ms)."""
    holder = {}

    def answer(n):
        board = holder["board"]
        return [(delay, board.answer_to(m)) for delay, m in script.get(n, [(0.002, n)])]

    with TimedBoard(answer, **kwargs) as board:
        holder["board"] = board
        return board, board.run(polls)


def read_polls(board, polls):
    """The requests (by number) whose polls gave a reading."""
    return [p.request for p in polls if p.readings]


def test_a_late_reply_landing_after_the_next_request_is_not_its_answer():
    # Request 2's reply misses its timeout and the drain after it, and lands 1 ms after
    # the next request went out; that request's own reply takes 40 ms, past the 20 ms
    # quiet guard. The driver before this fix took reply 2 as poll 3's reading.
    board, polls = scripted({2: [], 3: [(0.001, 2), (0.04, 3)]}, 8)
    counts = board.driver.counts
    assert stale_or_foreign(polls) == []
    # Request 3 was the probe (a read was owed): reply 2 in its window is late, and pays.
    assert board.counts[3] == 24 and counts["probes"] == 1
    assert counts["timeouts"] == 1 and counts["late"] == 1
    assert read_polls(board, polls) == [0, 1, 4, 5, 6, 7]


def test_a_reply_two_polls_late_is_not_taken_either():
    # Reply 2 comes after the probe's reply (a store-and-forward link held it back): the
    # probe's answer does not settle the debt, only reply 2 does.
    board, polls = scripted({2: [], 4: [(0.001, 2), (0.04, 4)]}, 10)
    assert stale_or_foreign(polls) == []
    assert board.counts[3] == 24 and board.counts[4] == 24  # still owed: probe again
    assert read_polls(board, polls) == [0, 1, 5, 6, 7, 8, 9]


def test_a_late_reply_the_drain_finds_costs_no_further_reading():
    board, polls = scripted({2: [(1.5 * T, 2)]}, 6)
    assert stale_or_foreign(polls) == []
    assert board.driver.counts["late"] == 1 and board.driver.counts["probes"] == 0
    assert read_polls(board, polls) == [0, 1, 3, 4, 5]


def test_a_late_reply_and_the_probe_s_answer_together_are_refused_and_settle_the_debt():
    board, polls = scripted({2: [], 3: [(0.001, 2), (0.012, 3)]}, 6)
    assert stale_or_foreign(polls) == []
    assert board.driver.counts["unsolicited"] == 1
    assert read_polls(board, polls) == [0, 1, 4, 5]


def test_a_dropped_request_is_forgiven_after_late_limit_without_a_fault():
    # Request 2 never gets a reply (a noise burst damaged it); every other reply is prompt.
    # Probes go out until late_limit after request 2, then the reads again.
    board, polls = scripted({2: []}, 16, late_limit=0.3)
    h = board.driver.health_extra()
    assert stale_or_foreign(polls) == []
    probes = [n for n, c in enumerate(board.counts) if c == 24]
    assert probes and all(board.arrived[n] - board.arrived[2] <= 0.3 + 0.002 for n in probes)
    assert polls[-1].readings and not h["faulted"]


def test_a_frame_from_another_unit_does_not_stand_for_our_board_s_reply():
    # Request 2's window holds only another unit's frame; our board's reply to it lands
    # 1 ms after the next request, whose own reply takes 40 ms.
    holder = {}

    def answer(n):
        board = holder["board"]
        if n == 2:
            return [(0.002, reply(content(900), unit=9))]
        if n == 3:
            return [(0.001, board.answer_to(2)), (0.04, board.answer_to(3))]
        return [(0.002, board.answer_to(n))]

    with TimedBoard(answer) as board:
        holder["board"] = board
        polls = board.run(10)
    assert stale_or_foreign(polls) == []
    assert board.driver.counts["wrong_unit"] == 1 and board.driver.counts["late"] == 1


def test_a_completed_write_is_not_a_port_failure_however_long_the_thread_waited(tmp_path):
    # pyserial's write raises SerialTimeoutException when its write timeout has run out by
    # the time it looks, even after the OS took every byte: a driver thread that waited for
    # the CPU that long reported a port failure and reconnected (the fuzz bench's
    # "exception" under load). Here every look at the clock is a second later than the
    # one before, over a real pty.
    ticks = iter(range(10**6))
    with NullModem(str(tmp_path / "cable")) as modem, serial.Serial(modem.a, timeout=2) as peer:
        driver = CourseBoardDriver(modem.b, unit=1, count=16, timeout=T, monotonic=lambda: float(next(ticks)))
        driver.open()
        try:
            assert driver.poll(_StillClock()) == []  # sent, then timed out at once: no exception
            assert peer.read(8) == driver._request
        finally:
            driver.close()


def test_a_write_the_os_will_not_take_fails_after_the_write_timeout():
    # A bare pty whose other side nobody reads: it takes some kB, then no more.
    master, slave = os.openpty()
    tty.setraw(slave)
    driver = CourseBoardDriver(os.ttyname(slave), unit=1, count=16, timeout=T)
    try:
        driver.open()
        ticks = iter(range(10**6))
        driver._monotonic = lambda: float(next(ticks))
        with pytest.raises(TimeoutError, match="not taken"):
            driver._write(driver._request * 100_000)  # 800 kB: more than a pty ever holds
    finally:
        driver.close()
        os.close(master)
        os.close(slave)


def test_late_limit_is_a_second_or_four_timeouts_and_never_shorter_than_a_drain():
    # The site file allows timeouts up to 2 s: the debt then lasts four of them.
    assert CourseBoardDriver("x", timeout=2.0).late_limit == 8.0
    assert CourseBoardDriver("x", timeout=0.1).late_limit == 1.0
    with pytest.raises(ValueError, match="two timeouts"):
        CourseBoardDriver("x", timeout=0.1, late_limit=0.15)


class _StillClock:
    """Stamps for a poll whose timing is not the subject."""

    def now(self):
        return 0.0, datetime(2026, 12, 5, tzinfo=timezone.utc)


# -- property: any mix of reply timings and contents -----------------------------------------

LATE_LIMIT = 0.4
KINDS = ("prompt", "slow", "late", "never", "twice", "wrong_unit", "wrong_function", "byte_count",
         "bad_crc", "short")


def _frames(board, n: int, kind: str, delay: float) -> list[tuple[float, bytes]]:
    own = board.answer_to(n)
    if kind in ("prompt", "slow", "late"):
        return [(delay, own)]
    if kind == "never":
        return []
    if kind == "twice":
        return [(delay, own), (delay + 0.0005, own)]
    if kind == "wrong_unit":
        return [(delay, board.answer_to(n, unit=2))]
    if kind == "wrong_function":
        return [(delay, reply(content(n), function=1))]
    if kind == "byte_count":
        return [(delay, reply(content(n) * 2))]  # a board with another register map
    if kind == "bad_crc":
        return [(delay, own[:-1] + bytes([own[-1] ^ 0x5A]))]
    return [(delay, own[:4])]  # short


def _delay(kind: str, u: float) -> float:
    if kind == "slow":
        return 0.5 * T + u * 0.45 * T  # inside the timeout, late in it
    if kind == "late":
        return T * 1.02 + u * (LATE_LIMIT - T * 1.1)  # after the timeout, within late_limit
    return 0.0005 + u * 0.01


replies = st.lists(st.tuples(st.sampled_from(KINDS), st.floats(0, 1), st.booleans(), st.floats(0, 1)),
                   min_size=1, max_size=24)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies)
def test_any_reply_timing_gives_only_the_current_request_s_reading(script):
    """Whatever mix of prompt, slow, late (in any order), lost, doubled, foreign and damaged
    replies, and stray frames of another unit, the board makes, every reading is its own
    poll's reply; and once the board behaves (25 prompt replies, more than late_limit),
    readings come again."""
    holder = {}

    def answer(n):
        board = holder["board"]
        if n >= len(script):
            return [(0.002, board.answer_to(n))]
        kind, u, stray, v = script[n]
        frames = _frames(board, n, kind, _delay(kind, u))
        if stray:  # a frame of another unit somewhere in the next 0.1 s
            frames.append((v * 0.1, reply(content(n + 1000), unit=9)))
        return frames

    with TimedBoard(answer, late_limit=LATE_LIMIT, fault_limit=10**6, fault_window=10**6) as board:
        holder["board"] = board
        polls = board.run(len(script) + 25)
    assert stale_or_foreign(polls) == []
    assert polls[-1].readings, "the board behaves again, but the driver never believes it"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0005, 0.95 * T), min_size=5, max_size=30))
def test_a_board_that_answers_within_the_timeout_loses_no_reading(delays):
    # Never at the cost of missing real readings: in-time replies, however slow, all count.
    board, polls = scripted({n: [(d, n)] for n, d in enumerate(delays)}, len(delays))
    assert stale_or_foreign(polls) == [] and all(len(p.readings) == 1 for p in polls)


# -- a starved driver thread: the first byte seen past the timeout is never believed ---------

def test_a_reply_a_starved_thread_sees_past_the_timeout_is_untimed_not_a_reading():
    # The thread wakes 0.9 T late from every wait. Reply 2 comes in time (0.2 T) but is seen
    # 5 ms past the timeout: nobody can tell it from a reply 5 ms late, so it is not believed
    # (the test that found this: a pty board answering 10..30 ms after the timeout, believed
    # on a loaded machine). It is the host's lateness, not the board's: no rejection, no fault.
    # The prompt replies (2 ms) are still seen in time.
    board, polls = scripted({2: [(0.2 * T, 2)]}, 6, wake_lag=0.9 * T, fault_limit=1)
    counts, health = board.driver.counts, board.driver.health_extra()
    assert 2 not in read_polls(board, polls) and stale_or_foreign(polls) == []
    assert counts["untimed"] == 1 and health["untimed"] == 1 and not health["faulted"]
    assert counts["timeouts"] == 0 and not any(health["rejected"].values())
    assert read_polls(board, polls) == [0, 1, 3, 4, 5]  # the prompt ones, seen in time


def test_a_foreign_frame_seen_late_is_still_rejected_as_foreign():
    holder = {}

    def answer(n):
        if n == 2:
            return [(0.2 * T, reply(content(n), unit=7))]
        return [(0.002, holder["board"].answer_to(n))]

    with TimedBoard(answer, wake_lag=0.9 * T) as board:
        holder["board"] = board
        polls = board.run(4)
    # Rejected as in time (and our board's reply to request 2 is still owed: probes follow).
    assert board.driver.counts["wrong_unit"] == 1 and board.driver.counts["untimed"] == 0
    assert read_polls(board, polls) == [0, 1] and stale_or_foreign(polls) == []


def test_a_reply_seen_within_one_frame_gap_of_the_timeout_is_still_its_answer():
    # The line's own resolution: a thread that wakes a little late (here half the 3.5-character
    # gap) still believes a reply that came in time.
    gap = CourseBoardDriver("x", timeout=T).frame_gap
    board, polls = scripted({n: [(T - 0.001, n)] for n in range(4)}, 4, wake_lag=0.001 + gap / 2)
    assert read_polls(board, polls) == [0, 1, 2, 3] and stale_or_foreign(polls) == []


def test_a_starved_thread_s_capture_replays_to_the_same_readings_and_counts():
    from devices.rawcapture import RawChunk, replay

    chunks = []
    board, polls = scripted({2: [(0.9 * T, 2)], 4: [(1.3 * T, 4)], 5: [(0.5 * T, 5)]}, 10, wake_lag=0.9 * T,
                            tap=lambda dev, d, data, mono, utc: chunks.append(RawChunk(mono, utc, d, data)))
    live = board.driver
    fresh = CourseBoardDriver("replay://", unit=1, count=16, timeout=T)
    replayed = replay(fresh, chunks)
    assert [(r.mono, r.inputs) for r in replayed] == [(r.mono, r.inputs) for p in polls for r in p.readings]
    # Replies 2 and 5 came in time and reply 4 late, each seen past the timeout: untimed, all three.
    assert fresh.counts == live.counts and live.counts["untimed"] == 3 and not live.counts["late"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(0.0005, 3 * T), min_size=3, max_size=20), st.floats(0, 2 * T))
def test_no_reading_comes_from_a_reply_after_the_timeout_however_starved_the_thread(delays, lag):
    """Replies at any delay (in time, just late, a timeout or two late), a driver thread that wakes
    up to two timeouts late from every wait: every reading is its own poll's reply, and that
    reply came within the timeout (plus the line's frame gap)."""
    board, polls = scripted({n: [(d, n)] for n, d in enumerate(delays)}, len(delays), wake_lag=lag,
                            fault_limit=10**6, fault_window=10**6)
    gap = board.driver.frame_gap
    assert stale_or_foreign(polls) == []
    assert all(delays[n] <= T + gap for n in read_polls(board, polls) if n < len(delays))
