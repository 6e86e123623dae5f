"""The vehicle signal board sentence, ``$EXSIG`` (full spec: docs/signal-board.md).

::

    $EXSIG,<seq>,<present>,<flags>,<gear>,<roll>*HH\\r\\n
    $EXSIG,1234,7FCF,000B,N,-12*0E

* ``seq``: decimal 0..65535, +1 per sentence, wraps; gaps mean lost sentences.
* ``present``: 4 hex digits, the inputs this board has wired (bit table below).
* ``flags``: 4 hex digits, the inputs that are active now; must be a subset of
  ``present`` (a bit outside it is a board fault: the sentence is dropped).
* ``gear``: ``N``, ``R``, ``P``, ``1``..``6``, or ``?`` (unknown / no sensor).
* ``roll``: signed integer, 0.1 degree, right side down positive, -900..900;
  empty when the board has no tilt sensor.
* ``HH``: XOR of the bytes between ``$`` and ``*``, as NMEA 0183.

Framing (``$`` resync, checksum, length limit) is the shared
:class:`devices.framing.SentenceFramer`; this module only encodes and decodes
fields. Decoding is strict: any field that is not exactly as specified makes
the whole sentence malformed, because a half-understood input state must
never reach the judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from devices.framing import with_checksum

TALKER = "EXSIG"
MAX_LENGTH = 64  # longest valid sentence is 35 bytes; anything longer is noise

# bit -> input name. Append only: the numbers are the wire format.
BITS: dict[int, str] = {
    0: "ignition",
    1: "engine",  # engine running (from the alternator / rpm pulse)
    2: "starter",  # starter switch pressed
    3: "helmet",  # helmet on and buckled
    4: "seatbelt",  # fastened
    5: "parking_brake",  # applied
    6: "left_footpeg",  # foot on the left footpeg (switch pressed)
    7: "right_footpeg",
    8: "left_turn",  # left turn signal lamp on
    9: "right_turn",
    10: "foot_brake",
    11: "clutch",  # clutch lever pulled
    12: "horn",
    13: "left_grip",  # hand on the left handlebar grip
    14: "right_grip",
}
NAMES: dict[str, int] = {name: bit for bit, name in BITS.items()}
GEARS = ("N", "R", "P", "1", "2", "3", "4", "5", "6", "?")

MOTORCYCLE = frozenset({"ignition", "engine", "starter", "helmet", "left_footpeg", "right_footpeg",
                        "left_turn", "right_turn", "foot_brake", "clutch", "horn",
                        "left_grip", "right_grip"})
THREE_WHEELER = frozenset({"ignition", "engine", "starter", "seatbelt", "parking_brake",
                           "left_turn", "right_turn", "foot_brake", "clutch", "horn"})

_FIELDS_RE = re.compile(r"^\$EXSIG,(\d{1,5}),([0-9A-F]{4}),([0-9A-F]{4}),([NRP1-6?]),(-?\d{1,3})?\*[0-9A-F]{2}$")


class MalformedSentence(ValueError):
    pass


@dataclass(frozen=True)
class SignalState:
    """What the board reports: the active inputs, the gear and the roll angle."""

    flags: frozenset[str] = field(default_factory=frozenset)
    gear: str = "N"
    roll: float | None = 0.0  # degrees, right side down positive; None: no tilt sensor


def mask(names) -> int:
    m = 0
    for name in names:
        try:
            m |= 1 << NAMES[name]
        except KeyError:
            raise ValueError(f"unknown signal {name!r}; known: {sorted(NAMES)}") from None
    return m


def names(bits: int) -> frozenset[str]:
    return frozenset(name for bit, name in BITS.items() if bits >> bit & 1)


def encode(seq: int, present: frozenset[str], state: SignalState) -> str:
    """One sentence without line end. Flags outside ``present`` are not sent."""
    if state.gear not in GEARS:
        raise ValueError(f"gear must be one of {GEARS}")
    pmask = mask(present)
    fmask = mask(state.flags) & pmask
    roll = ""
    if state.roll is not None:
        roll = str(max(-900, min(900, int(round(state.roll * 10)))))
    return with_checksum(f"{TALKER},{seq % 65536},{pmask:04X},{fmask:04X},{state.gear},{roll}")


@dataclass(frozen=True)
class Decoded:
    sequence: int
    present: frozenset[str]
    flags: frozenset[str]
    gear: str
    roll: float | None


def decode(sentence: str) -> Decoded:
    """Fields of a checksum-verified sentence; MalformedSentence if not exactly to spec."""
    m = _FIELDS_RE.match(sentence)
    if m is None:
        raise MalformedSentence(sentence)
    seq = int(m.group(1))
    pmask, fmask = int(m.group(2), 16), int(m.group(3), 16)
    if seq > 65535:
        raise MalformedSentence("sequence out of range")
    if fmask & ~pmask:
        raise MalformedSentence("active input that the board does not have")
    if pmask & ~mask(NAMES):
        raise MalformedSentence("unknown input bit")
    roll = None
    if m.group(5) is not None:
        tenths = int(m.group(5))
        if not -900 <= tenths <= 900:
            raise MalformedSentence("roll out of range")
        roll = tenths / 10.0
    return Decoded(seq, names(pmask), names(fmask), m.group(4), roll)


def is_signal_sentence(sentence: str) -> bool:
    return sentence.startswith("$" + TALKER + ",")
