"""Framer for NMEA-style ASCII sentences: ``$<body>*<HH>\\r\\n``.

Used for NMEA 0183 from GNSS receivers and for the vehicle signal board
(``$EXSIG``, see docs/signal-board.md), which borrows the same framing.

The framer only finds frame boundaries and checks the checksum; it never
interprets fields. It is fed arbitrary chunks of bytes (a serial read may stop
anywhere, in the middle of a sentence or of its checksum) and returns the
complete, verified sentences as ``str``. Everything else is dropped and
counted, by reason:

* ``garbage``: bytes outside any sentence (binary UBX/TSIP frames mixed into the
  stream, line noise, comments in a capture). One contiguous run counts once.
  Whitespace between sentences (``\\r``, ``\\n``) is not garbage.
* ``truncated``: a new ``$`` arrived before the previous sentence's line end,
  the classic symptom of a lost byte or a receiver restart mid-sentence. The
  framer resynchronises on that ``$``.
* ``overlong``: no line end within ``max_length`` bytes. Without this limit one
  lost ``\\n`` (or binary data without ``\\n``) would let the buffer grow
  forever. The rest of that line is skipped up to the next ``$``.
* ``malformed``: non-printable bytes inside the sentence, or no ``*HH``.
* ``bad_checksum``: XOR of the bytes between ``$`` and ``*`` (computed by
  pynmea2) differs from ``HH``.
* ``malformed`` also covers a body that does not start with an address field
  (``GPGGA``, ``EXSIG``, ``PUBX``).

An 8-bit XOR catches any single damaged byte *inside* a sentence, but a
damaged byte that becomes ``$`` starts a new candidate at that point, whose
checksum matches by chance once in 256. The address check rejects most of
those; what remains is only ever the tail of a real sentence, which the
decoders reject because they check the sentence id and every field. Fuzz
tests hold the drivers, not the framer, to "never emits what was not sent".

Pitfalls: a binary frame may contain the byte ``$`` (0x24) or ``\\n``; the
candidate sentence that starts there then fails the printable/checksum test
and is dropped, and the real ``$`` that follows restarts the hunt, so no valid
sentence is lost to it. Checksum hex digits are accepted in either case
(NMEA says upper case; some receivers send lower).
"""

from __future__ import annotations

import re
from collections import Counter

from pynmea2 import NMEASentence

_SENTENCE_RE = re.compile(rb"^\$([\x20-\x29\x2b-\x7e]*)\*([0-9A-Fa-f]{2})$")
# NMEA address field: talker + formatter (GPGGA, EXSIG) or P + manufacturer (PUBX, PSRFEPE).
_ADDRESS_RE = re.compile(r"^[A-Z][A-Z0-9]{2,9}(,|$)")
_BOUNDARY_RE = re.compile(rb"[$\n]")
_WHITESPACE = b" \t\r\n\x00"

DROP_REASONS = ("garbage", "truncated", "overlong", "malformed", "bad_checksum")


def nmea_checksum(body: str) -> int:
    """XOR of the characters between ``$`` and ``*`` (pynmea2's implementation)."""
    return NMEASentence.checksum(body)


def with_checksum(body: str) -> str:
    """``body`` -> ``$body*HH`` (without line end)."""
    return "$%s*%02X" % (body, nmea_checksum(body))


class SentenceFramer:
    """Turns a byte stream into verified ``$...*HH`` sentences (see module doc)."""

    def __init__(self, max_length: int = 200) -> None:
        self.max_length = max_length
        self.counts: Counter[str] = Counter()
        self.sentences = 0
        self._buf: bytearray | None = None  # current candidate, starts with b"$"
        self._in_garbage = False  # inside a garbage run already counted
        self._skipping = False  # rest of an over-long line: not counted again
        # Where the last feed() dropped something: for each drop, the number of sentences it
        # returned before that drop. A reader that ties sentences to their neighbours (GNSS
        # VTG/HDT to the epoch around them) must know whether anything was lost *between* two
        # sentences, not only somewhere in the chunk.
        self.drop_marks: list[int] = []
        self._out: list[str] = []

    @property
    def dropped(self) -> int:
        return sum(self.counts[r] for r in DROP_REASONS)

    def reset(self) -> None:
        """Forget a partial sentence (e.g. after the port was re-opened)."""
        if self._buf is not None and len(self._buf) > 1:
            self._drop("truncated")
        self._buf = None
        self._in_garbage = False
        self._skipping = False

    def feed(self, data: bytes) -> list[str]:
        out: list[str] = []
        self.drop_marks = []
        self._out = out
        pos, end = 0, len(data)
        while pos < end:
            if self._buf is None:  # hunting for "$"
                idx = data.find(b"$", pos)
                stop = end if idx < 0 else idx
                self._garbage(data[pos:stop])
                if idx < 0:
                    break
                self._buf = bytearray(b"$")
                self._in_garbage = False
                self._skipping = False
                pos = idx + 1
                continue
            m = _BOUNDARY_RE.search(data, pos)
            stop = end if m is None else m.start()
            self._buf += data[pos:stop]
            if len(self._buf) > self.max_length:
                self._drop("overlong")
                self._buf = None
                self._skipping = True
                pos = stop
                continue
            if m is None:
                break
            if data[stop] == 0x24:  # "$" before the line end: the sentence was cut
                self._drop("truncated")
                self._buf = None
                pos = stop
                continue
            line = bytes(self._buf).rstrip(b"\r")
            self._buf = None
            pos = stop + 1
            sentence = self._check(line)
            if sentence is not None:
                out.append(sentence)
        return out

    def _garbage(self, chunk: bytes) -> None:
        if self._skipping or self._in_garbage or not chunk.strip(_WHITESPACE):
            return
        self._drop("garbage")
        self._in_garbage = True

    def _drop(self, reason: str) -> None:
        self.counts[reason] += 1
        self.drop_marks.append(len(self._out))

    def _check(self, line: bytes) -> str | None:
        m = _SENTENCE_RE.match(line)
        if m is None:
            self._drop("malformed")
            return None
        body = m.group(1).decode("ascii")
        if int(m.group(2), 16) != nmea_checksum(body):
            self._drop("bad_checksum")
            return None
        if not _ADDRESS_RE.match(body):
            # A "$" that replaced or was inserted into a sentence starts a bogus one whose
            # checksum matches by chance 1 time in 256; its first field is rarely an address.
            self._drop("malformed")
            return None
        self.sentences += 1
        return "$%s*%s" % (body, m.group(2).decode("ascii").upper())
