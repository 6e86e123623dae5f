"""The MJPEG relay's framing: whole pictures only, reconnection, keep-alive repeats."""

from __future__ import annotations

import io

import pytest

from examroom_web.cameras import relay as relay_module
from examroom_web.cameras.relay import BrokenStream, parts, relay


def _part(body: bytes) -> bytes:
    return (b"--examroomframe\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\n\r\n" + body + b"\r\n")


def test_parts_are_whole_and_a_torn_last_picture_is_dropped():
    stream = io.BytesIO(_part(b"\xff\xd8one\xff\xd9") + _part(b"\xff\xd8two\r\n\r\nx\xff\xd9")
                        + _part(b"\xff\xd8three\xff\xd9")[:-6])
    assert list(parts(stream)) == [_part(b"\xff\xd8one\xff\xd9"), _part(b"\xff\xd8two\r\n\r\nx\xff\xd9")]


def test_a_part_without_a_length_is_refused():
    with pytest.raises(BrokenStream, match="Content-Length"):
        list(parts(io.BytesIO(b"--examroomframe\r\nContent-Type: image/jpeg\r\n\r\nabc\r\n")))
    with pytest.raises(BrokenStream, match="Content-Length"):
        list(parts(io.BytesIO(b"--examroomframe\r\nContent-Length: 99999999999\r\n\r\nabc\r\n")))


def test_relay_reconnects_and_repeats_the_last_picture_while_the_controller_is_away(monkeypatch):
    monkeypatch.setattr(relay_module, "KEEPALIVE_SECONDS", 2.0)
    answers = iter([None, None, None, io.BytesIO(_part(b"B1") + _part(b"B2"))])
    slept = []
    out = relay(io.BytesIO(_part(b"A1") + _part(b"A2")), lambda: next(answers), sleep=slept.append)
    received = [next(out) for _ in range(5)]
    # A1 A2, the outage (3 failed tries: the last picture repeated once, after 2 s), then B1 B2
    assert received == [_part(b"A1"), _part(b"A2"), _part(b"A2"), _part(b"B1"), _part(b"B2")]
    assert len(slept) == 4
    out.close()


def test_closing_the_relay_closes_the_upstream():
    upstream = io.BytesIO(_part(b"A1") * 3)
    out = relay(upstream, lambda: None, sleep=lambda s: None)
    next(out)
    out.close()
    assert upstream.closed
