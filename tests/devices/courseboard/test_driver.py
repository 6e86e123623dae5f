"""CourseBoard (pymodbus client) against CourseBoardSimulator (pymodbus server) over the null modem."""

from hypothesis import given, settings, strategies as st
from pymodbus.exceptions import ModbusIOException
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU

from devices.courseboard import CourseBoard, CourseBoardSimulator
from tests.devices.conftest import wait_for


def on(inputs):
    return [i for i, v in enumerate(inputs) if v]


def test_inputs_arrive_and_changes_follow(modem):
    got = []
    with CourseBoardSimulator(modem.a, unit=3, count=20) as twin:
        twin.set_input(2, True)
        twin.set_input(17, True)
        with CourseBoard(modem.b, got.append, unit=3, count=20) as board:
            wait_for(lambda: len(got) >= 3)
            assert on(got[-1].inputs) == [2, 17] and got[-1].unit == 3 and len(got[-1].inputs) == 20
            twin.set_input(5, True)
            wait_for(lambda: on(got[-1].inputs) == [2, 5, 17], timeout=10)
            h = wait_for(lambda: (lambda h: h if h.rate > 10 else None)(board.health()))
    assert h.alive and h.frames_dropped == 0 and h.extra["timeouts"] == 0


def test_truncated_and_garbled_replies_are_counted_and_dropped(modem):
    got = []
    with CourseBoardSimulator(modem.a, unit=1, count=16) as twin:
        twin.set_input(0, True)
        with CourseBoard(modem.b, got.append, unit=1, count=16) as board:
            wait_for(lambda: len(got) >= 2)
            # one reply loses its last 3 bytes, the next has a flipped CRC bit
            plan = [lambda b: b[:-3], lambda b: b[:-1] + bytes([b[-1] ^ 0x01])]
            modem.set_filter("a>b", lambda b: plan.pop(0)(b) if plan else b)
            wait_for(lambda: board.health().frames_dropped >= 2)
            n = len(got)
            wait_for(lambda: len(got) >= n + 3)  # recovers by itself
            h = board.health()
    assert h.extra["rejected"]["short"] == 1 and h.extra["rejected"]["bad_crc"] == 1
    assert h.frames_dropped == 2 and not h.extra["faulted"]
    assert all(on(r.inputs) == [0] for r in got)  # nothing wrong was delivered


def test_garbage_injected_into_client_side(modem):
    got = []
    with CourseBoardSimulator(modem.a, unit=1, count=8) as twin:
        twin.set_input(7, True)
        with CourseBoard(modem.b, got.append, unit=1, count=8) as board:
            wait_for(lambda: len(got) >= 2)
            modem.inject("b", b"\x01\x02\x01")  # a truncated reply, out of turn
            modem.inject("b", b"\xde\xad\xbe\xef\x00\x13")
            n = len(got)
            wait_for(lambda: len(got) >= n + 5)
            h = board.health()
    assert all(on(r.inputs) == [7] for r in got)
    assert h.alive


def test_exception_response_and_silent_board(modem):
    got = []
    with CourseBoardSimulator(modem.a, unit=1, count=16):
        with CourseBoard(modem.b, got.append, unit=1, count=40, timeout=0.05) as board:
            wait_for(lambda: board.health().extra["exceptions"] >= 2)  # inputs 16..39 do not exist
            assert "exception" in board.health().last_error
        modem.set_filter("a>b", lambda b: b"")  # the board goes silent (cable cut on the bus side)
        with CourseBoard(modem.b, got.append, unit=1, count=8, timeout=0.05) as board:
            wait_for(lambda: board.health().extra["timeouts"] >= 2)
            h = board.health()
    assert got == [] and not h.alive and h.frames_dropped == 0


def test_on_change_only_with_heartbeat(modem):
    got = []
    with CourseBoardSimulator(modem.a, unit=1, count=8) as twin:
        with CourseBoard(modem.b, got.append, unit=1, count=8, on_change_only=True,
                         heartbeat=0.3) as board:
            wait_for(lambda: len(got) >= 1)
            twin.set_input(1, True)
            wait_for(lambda: on(got[-1].inputs) == [1], timeout=10)
            wait_for(lambda: len(got) >= 3, timeout=10)  # heartbeat repeats the state
            polls = board.health().extra["polls"]
    assert polls > len(got) + 3


RESPONSE = FramerRTU(DecodePDU(False)).encode(bytes([0x02, 0x02, 0x81, 0x05]), 1, 0)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(RESPONSE) - 1), st.integers(0, 255),
       st.sampled_from(["sub", "ins", "del", "trunc"]), st.binary(max_size=8))
def test_fuzz_rtu_framer_never_accepts_a_damaged_reply(pos, byte, op, prefix):
    """pymodbus's RTU framer (used by the client) with one damaged byte: CRC-16 catches it."""
    if op == "sub":
        data = RESPONSE[:pos] + bytes([byte]) + RESPONSE[pos + 1:]
    elif op == "ins":
        data = RESPONSE[:pos] + bytes([byte]) + RESPONSE[pos:]
    elif op == "del":
        data = RESPONSE[:pos] + RESPONSE[pos + 1:]
    else:
        data = RESPONSE[:pos]
    framer = FramerRTU(DecodePDU(False))
    try:
        _, pdu = framer.handleFrame(prefix + data, 1, 0)
    except ModbusIOException:
        return
    if pdu is not None:
        assert pdu.function_code == 2 and pdu.bits[:16] == [True] + [False] * 6 + [True] + \
            [True, False, True] + [False] * 5
