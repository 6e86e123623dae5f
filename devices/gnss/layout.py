"""What a used NMEA sentence may look like: the standard's field formats, and this receiver's layout.

An 8-bit XOR checksum misses damage that changes it by zero: two equal
characters lost from one sentence, one inserted and an equal one lost, two
substitutions with the same XOR. Such a sentence still parses (pynmea2
converts ``3000.000600``, ``.70`` or ``08000.10`` without complaint) and
would become a fix the receiver never sent. Two checks make nearly all of it
visible:

* **The standard's formats** (NMEA 0183, field by field): ``hhmmss[.ss]``
  time, ``ddmmyy`` date, ``llll.ll`` latitude and ``yyyyy.yy`` longitude
  with their fixed integer digits, ``x.x`` numbers with a digit before the
  point (no sign where the quantity has none, no exponent, no ``_``), one
  digit for the GGA quality, the letters each indicator field allows, and
  the number of fields. :func:`well_formed` checks a sentence's fields
  (after the address) against one regular expression per type.
* **This receiver's layout**: a receiver writes every numeric field with a
  fixed number of decimals (``3000.0000600`` always has seven, its time
  always two); only the integer part of a number varies. The layout of a
  sentence is the number of fields and, per field, its decimals (or "an
  integer", or nothing for an empty or text field). :class:`SentenceLayouts`
  confirms a field's layout when ``CONFIRM_VOTES`` of the last
  ``CONFIRM_WINDOW`` sentences of one type agree on it (a damaged and an
  intact sentence disagree), then rejects every sentence that contradicts it.
  Three, not two: the same damage twice in a row (two GGAs that lost the same
  two characters, ``11359.9999995`` -> ``11359.99995``) would otherwise be
  learnt as the layout and both used; three alike do not happen by chance. Of
  the last five, not three in a row: a stream damaged every third epoch still
  has its layout confirmed. A sentence with a field not confirmed yet is held
  back by the decoder until later ones of its type confirm it, so at a
  stream's start (or when a position first appears) fixes are two epochs
  late, never unchecked. A receiver that is reconfigured to another layout is
  followed after ``SHAPE_RUN`` rejected sentences in a row that agree.

What neither can see: damage that keeps both the format and the layout (a
digit lost from the integer part of a speed *and* an equal one from another
such field). The bench's fuzz run (``bench/fuzz_serial.py``) counts it.
"""

from __future__ import annotations

import re
from collections import Counter, deque

SHAPE_RUN = 3  # sentences in a row with one new layout before it is this receiver's
CONFIRM_VOTES = 3  # sentences that agree on a field's layout before it is confirmed ...
CONFIRM_WINDOW = 5  # ... among the last this many of the type


class _Num:
    """A numeric field: its integer part (fixed digits where the standard fixes them) and whether
    it may have decimals."""

    def __init__(self, integer: str, decimals: bool = True) -> None:
        self.integer, self.decimals = integer, decimals
        self.regex = f"(?:{integer}(?:\\.\\d+)?)?" if decimals else f"(?:{integer})?"

    def exact(self, layout: int | None) -> str:
        """The field as this receiver writes it: empty, or ``layout`` decimals (-1: an integer)."""
        if layout is None:
            return ""  # never seen filled: a first value must be confirmed (slow path)
        if layout < 0:
            return f"(?:{self.integer})?"
        return f"(?:{self.integer}\\.\\d{{{layout}}})?"


_T = _Num(r"\d{6}")  # hhmmss[.ss]
_DATE = _Num(r"\d{6}", decimals=False)  # ddmmyy
_LAT = _Num(r"\d{4}")  # ddmm.mm
_LON = _Num(r"\d{5}")  # dddmm.mm
_U = _Num(r"\d+")  # x.x, no sign
_S = _Num(r"-?\d+")  # x.x, signed (altitude, geoid separation)
_I = _Num(r"\d+", decimals=False)  # integer (satellites, station id)
_Q = _Num(r"\d", decimals=False)  # GGA quality
_MODE = "[ADEFMNPRS]?"  # NMEA 2.3+ mode indicator
# Per type: the fields after the address, in the longest layout, and the field counts allowed.
_FIELDS = {
    # time, lat, N/S, lon, E/W, quality, satellites, HDOP, altitude, M, geoid separation, M,
    # age of corrections, station id [, one more number some BeiDou receivers add]
    "GGA": ([_T, _LAT, "[NS]?", _LON, "[EW]?", _Q, _I, _U, _S, "M?", _S, "M?", _U, _I, _S], (14, 15)),
    # time, status, lat, N/S, lon, E/W, knots, course, date, magnetic variation, E/W
    # [, mode [, navigational status (NMEA 4.1)]]
    "RMC": ([_T, "[AV]?", _LAT, "[NS]?", _LON, "[EW]?", _U, _U, _DATE, _U, "[EW]?", _MODE, "[SCUV]?"],
            (11, 12, 13)),
    # course true, T, course magnetic, M, knots, N, km/h, K [, mode]; NMEA 2.0: four numbers
    "VTG": ([_U, "T?", _U, "M?", _U, "N?", _U, "K?", _MODE], (4, 8, 9)),
    "HDT": ([_U, "T?"], (2,)),
}


def _fields(kind: str, count: int) -> list:
    if kind == "VTG" and count == 4:
        return [_U] * 4  # course true, course magnetic, knots, km/h
    return _FIELDS[kind][0][:count]


def _regex(field) -> str:
    return field.regex if isinstance(field, _Num) else field


_RE = {kind: re.compile("|".join(",".join(_regex(f) for f in _fields(kind, n)) for n in counts))
       for kind, (_, counts) in _FIELDS.items()}


def well_formed(kind: str, fields: str) -> bool:
    """True if ``fields`` (the sentence between its address's comma and ``*``) has the standard's format."""
    return _RE[kind].fullmatch(fields) is not None


def signature(data: list[str]) -> tuple:
    """A sentence's layout: per field None (empty or text), -1 (an integer) or its decimals."""
    out = []
    for f in data:
        dot = f.find(".")
        if dot >= 0:
            out.append(len(f) - dot - 1)
        elif f and (f[0].isdigit() or f[0] == "-"):
            out.append(-1)
        else:
            out.append(None)
    return tuple(out)


class SentenceLayouts:
    """The layout of each sentence type, confirmed field by field (see module doc)."""

    OK, NEW, BAD = "ok", "new", "bad"

    def __init__(self) -> None:
        self._known: dict[str, list] = {}  # type -> confirmed layout per field (None: not yet)
        self._change: dict[str, tuple] = {}  # type -> (contradicting layout, sentences in a row)
        self._exact: dict[str, re.Pattern] = {}  # type -> its fields exactly as confirmed
        # type -> the layouts of its last sentences not yet fully confirmed (the votes)
        self._recent: dict[str, deque] = {}

    def matches(self, kind: str, fields: str) -> bool:
        """Fast path: ``fields`` has the standard's format and every non-empty field is as
        confirmed (what :meth:`check` calls OK, without splitting the fields)."""
        exact = self._exact.get(kind)
        if exact is None:
            known = self._known.get(kind)
            if known is None:
                return False
            exact = self._exact[kind] = re.compile(",".join(
                f.exact(k) if isinstance(f, _Num) else f for f, k in zip(_fields(kind, len(known)), known)))
        if exact.fullmatch(fields) is None:
            return False
        if self._change:
            self._change.pop(kind, None)
        return True

    def check(self, kind: str, sig: tuple) -> str:
        """OK (every field as confirmed), NEW (a field not confirmed yet) or BAD (a contradiction):
        :meth:`decide`, and a contradiction counts towards a reconfigured receiver's new layout."""
        verdict = self.decide(kind, sig)
        if verdict == self.BAD:
            return self._contradiction(kind, sig)
        if kind in self._known:
            self._change.pop(kind, None)
        return verdict

    def observe(self, kind: str, sig: tuple) -> None:
        """A sentence of ``kind`` with a field not confirmed yet: its layout votes, and each field
        (and the field count) that ``CONFIRM_VOTES`` of the last ``CONFIRM_WINDOW`` agree on is
        confirmed."""
        recent = self._recent.setdefault(kind, deque(maxlen=CONFIRM_WINDOW))
        recent.append(sig)
        known = self._known.get(kind)
        if known is None:
            count, votes = Counter(len(s) for s in recent).most_common(1)[0]
            if votes < CONFIRM_VOTES:
                return
            known = self._known[kind] = [None] * count
        for i, value in enumerate(known):
            if value is None:
                votes = Counter(s[i] for s in recent if len(s) == len(known) and s[i] is not None)
                agreed = [v for v, n in votes.items() if n >= CONFIRM_VOTES]
                if agreed:
                    known[i] = agreed[0]
                    self._exact.pop(kind, None)

    def decide(self, kind: str, sig: tuple) -> str:
        """A sentence against what is confirmed now: OK, BAD (a confirmed field contradicts it) or
        NEW (not decided yet). Nothing is counted: held sentences are decided again as votes come."""
        known = self._known.get(kind)
        if known is None:
            return self.NEW
        if len(known) != len(sig):
            return self.BAD
        verdict = self.OK
        for k, s in zip(known, sig):
            if s is None:
                continue
            if k is None:
                verdict = self.NEW
            elif k != s:
                return self.BAD
        return verdict

    def _contradiction(self, kind: str, sig: tuple) -> str:
        # A receiver reconfigured to another layout: followed once SHAPE_RUN sentences in a row
        # agree on the new one (each of them is rejected until then, but the last).
        other, run = self._change.get(kind, (None, 0))
        run = run + 1 if other == sig else 1
        if run >= SHAPE_RUN:
            self._known[kind] = list(sig)
            self._exact.pop(kind, None)
            self._change.pop(kind, None)
            return self.OK
        self._change[kind] = (sig, run)
        return self.BAD
