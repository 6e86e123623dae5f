"""Relaying a controller's MJPEG stream to a browser, whole pictures at a time, across outages.

The browser's ``<img>`` holds one long response. If the relay simply ended
when the controller's stream did (a controller restart, a camera silent past
the read timeout), the picture would freeze on its last frame for good: an
image element fires no error when a multipart response ends. So the relay
keeps the browser's response open, reconnects to the controller every
``RETRY_SECONDS``, and meanwhile repeats the last picture every
``KEEPALIVE_SECONDS`` — which also finds out, by a failed write, when the
browser has gone. Pictures are forwarded whole (parsed by their
Content-Length), so a stream cut mid-picture never shows a torn one.
"""

from __future__ import annotations

import time
from typing import BinaryIO, Callable, Iterator

RETRY_SECONDS = 1.0
KEEPALIVE_SECONDS = 5.0
MAX_PART_BYTES = 16 * 1024 * 1024  # a header claiming more is not a camera picture


class BrokenStream(OSError):
    """The upstream is not the multipart stream it claims to be."""


def parts(upstream: BinaryIO) -> Iterator[bytes]:
    """Each complete part (boundary line, headers, body, CRLF) of a multipart stream, as bytes."""
    while True:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = upstream.readline(8192)
            if not line:
                return  # the stream ended (between pictures or inside one: the torn one is dropped)
            if head or line.strip():
                head += line
            if len(head) > 65536:
                raise BrokenStream("multipart part headers too long")
        length = None
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or b"-1")
        if length is None or not 0 <= length <= MAX_PART_BYTES:
            raise BrokenStream(f"multipart part without a usable Content-Length: {head[:200]!r}")
        body = _read_exactly(upstream, length + 2)  # the body and the CRLF after it
        if body is None:
            return
        yield head + body


def _read_exactly(upstream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = upstream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def relay(first: BinaryIO, reopen: Callable[[], BinaryIO | None],
          sleep: Callable[[float], None] = time.sleep) -> Iterator[bytes]:
    """Parts from ``first``, then from each stream ``reopen`` gives after an outage; never ends by itself.

    ``reopen`` returns a new upstream, or None when the controller does not answer yet. The
    caller's response ends when the browser goes away (a write fails and the generator is closed).
    """
    upstream: BinaryIO | None = first
    last = b""
    try:
        while True:
            if upstream is not None:
                try:
                    for part in parts(upstream):
                        last = part
                        yield part
                except OSError:  # timed out (a silent camera) or cut off (the controller stopped)
                    pass
                upstream.close()
                upstream = None
            waited = 0.0
            while upstream is None:
                if waited >= KEEPALIVE_SECONDS and last:
                    yield last  # the browser keeps its picture; a browser gone makes this write fail
                    waited = 0.0
                sleep(RETRY_SECONDS)
                waited += RETRY_SECONDS
                upstream = reopen()
    finally:
        if upstream is not None:
            upstream.close()
