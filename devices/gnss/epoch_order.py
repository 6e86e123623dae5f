"""Learn a receiver's sentence order per epoch: which sentences, in which order, where an epoch starts.

Receivers differ: u-blox sends RMC, VTG, GGA; many send GGA first; a
Hemisphere heading receiver sends HDT, GGA, VTG. GGA and RMC carry the
epoch's UTC time, VTG and HDT do not, so where one epoch ends among the
untimed sentences between two timed ones cannot be read from the sentences
themselves: in the repeating stream ``... HDT GGA VTG HDT GGA VTG ...`` the
HDT may close an epoch or open the next. :class:`EpochOrderLearner` holds
the first sentences back (about half a second at 10 Hz) and finds:

* the **cycle**: the timed sentences' times split the stream into epochs;
  the number of used sentences from one new time to the next must be the
  same, and the sequence of sentence types must repeat with that period, for
  ``EPOCHS`` epochs in a row;
* the **phase**: which rotation of the cycle is one epoch. Rotations that
  would split the timed sentences of one time across two epochs are
  impossible. Among the rest, the receiver's own timing decides when the
  arrival stamps show it: a receiver sends an epoch as one burst, so the
  boundary is where the gaps between arrivals are largest, summed over the
  watched epochs. Without timing (a capture replayed with one stamp), the
  stream's first sentence opens an epoch when that is a possible rotation
  and nothing was lost or damaged since the stream began (a capture or a
  receiver starts at an epoch; a lost first sentence would look like a
  stream joined mid-epoch). Otherwise the phase is unknown and the untimed
  sentences are not used (the fixes go out without them) until the bursts
  tell, or the learner gives up.

The result is the epoch's sentence order (e.g. ``("HDT", "GGA", "VTG")``);
the decoder then ends each epoch on its last type and places every untimed
sentence by that order. A stream without a regular cycle (sentences at
different rates, a receiver that loses some every epoch) is watched for as
long as it takes, over a sliding window of ``KEEP`` epochs; until then its
VTG and HDT are not used, so its fixes carry what GGA and RMC say and a
speed only RMC gives is missing, never borrowed from a neighbour epoch
(health counts fixes without speed; a receiver that keeps sending none is a
device fault).
"""

from __future__ import annotations

TIMED = ("GGA", "RMC")
EPOCHS = 4  # full epochs with the same order before it is adopted
KEEP = 12  # epochs of history kept while no regular cycle is found


class EpochOrderLearner:
    """Holds parsed sentences back until the receiver's per-epoch order is known (see module doc)."""

    def __init__(self) -> None:
        # (type, epoch time or None, arrival mono, the parsed sentence if it is untimed)
        self.entries: list[tuple[str, object, float, tuple | None]] = []
        self.damaged = False  # bytes were dropped or sentences malformed since the stream began
        self.start = 0  # learned: index of an entry that opens an epoch (may be < 0)
        self.period = 0  # learned: sentences per epoch
        self._keys: list = []  # distinct epoch times, in order of first appearance
        self._starts: list[int] = []  # index of the first sentence of each of those times

    def add(self, kind: str, key, mono: float, parsed: tuple) -> None:
        if key is not None and (not self._keys or key != self._keys[-1]):
            if key not in self._keys:
                self._keys.append(key)
                self._starts.append(len(self.entries))
        self.entries.append((kind, key, mono, parsed if key is None else None))

    def untimed_of_last_epochs(self) -> tuple[list[tuple], list[tuple]]:
        """After learning: the untimed sentences (parsed) of the epoch before the newest one, and
        those of the newest one that came before its newest entry, by the learned order."""
        newest = (len(self.entries) - 1 - self.start) // self.period
        before, current = [], []
        for i, (kind, key, _, parsed) in enumerate(self.entries[:-1]):
            if parsed is None:
                continue
            epoch = (i - self.start) // self.period
            if epoch == newest - 1:
                before.append(parsed)
            elif epoch == newest:
                current.append(parsed)
        return before, current

    def learn(self) -> tuple[str, ...] | None:
        """The order (a tuple of types), or None: not known yet (the untimed wait)."""
        starts = self._starts
        if len(starts) < EPOCHS + 1:
            if len(self.entries) > 20 * KEEP:  # no timed sentences at all: nothing to learn from
                del self.entries[:-KEEP]
                self._starts, self._keys, self.damaged = [], [], True
            return None
        order = self._order(starts[-(EPOCHS + 1):])
        if order is None and len(starts) > KEEP:
            # Keep a sliding window: an irregular or damaged stream is watched until EPOCHS
            # regular epochs come in a row, with bounded memory. The stream's start is gone.
            cut = starts[-(EPOCHS + 1)]
            del self.entries[:cut]
            self._starts = [i - cut for i in starts[-(EPOCHS + 1):]]
            self._keys = self._keys[-(EPOCHS + 1):]
            self.damaged = True
        return order

    def _order(self, starts: list[int]) -> tuple[str, ...] | None:
        period = starts[1] - starts[0]
        if period < 1 or any(b - a != period for a, b in zip(starts, starts[1:])):
            return None
        kinds = [e[0] for e in self.entries]
        first, end = starts[0], starts[-1]
        if any(kinds[i] != kinds[i + period] for i in range(first, end - period + 1)):
            return None
        cycle = kinds[first:first + period]  # starts with a timed sentence of a new time
        # Every timed sentence of one cycle must carry that cycle's time (a GGA and RMC of one
        # epoch together), else the "cycle" is not an epoch.
        for s in starts[:-1]:
            keys = {self.entries[i][1] for i in range(s, s + period) if self.entries[i][1] is not None}
            if len(keys) != 1:
                return None
        trailing = 0  # untimed sentences at the end of the cycle: they may open the next epoch
        while trailing < period - 1 and cycle[period - 1 - trailing] not in TIMED:
            trailing += 1
        shift = self._phase(first, period, trailing, len(starts) - 1)
        if shift is None:
            return None  # the phase is not known yet: keep watching (more bursts may tell)
        self.start, self.period = first - shift, period
        return tuple(cycle[period - shift:] + cycle[:period - shift])

    def _phase(self, first: int, period: int, trailing: int, epochs: int) -> int | None:
        """How many of the cycle's trailing untimed sentences belong to the next epoch (None: unknown)."""
        if trailing == 0:
            return 0
        monos = [e[2] for e in self.entries]
        scores = []
        for shift in range(trailing + 1):
            score = 0.0
            for m in range(epochs + 1):
                i = first - shift + m * period  # the first sentence of an epoch, by this rotation
                if 1 <= i < len(monos):
                    score += monos[i] - monos[i - 1]
            scores.append(score)
        best = max(scores)
        if best > 0 and scores.count(best) == 1:
            return scores.index(best)
        # No timing: the stream's first sentence opens an epoch, but only if nothing was lost
        # or damaged since the stream began (a lost first sentence looks exactly like a stream
        # joined mid-epoch) and the cycle holds from that first sentence on. Otherwise the
        # untimed sentences cannot be placed: guessing would give fixes a neighbour's speed.
        if self.damaged or not self._regular_from_start(period):
            return None
        shift = first % period
        return shift if shift <= trailing else None

    def _regular_from_start(self, period: int) -> bool:
        starts = self._starts
        if starts[0] >= period or any(b - a != period for a, b in zip(starts, starts[1:])):
            return False
        kinds = [e[0] for e in self.entries]
        return all(kinds[i] == kinds[i + period] for i in range(len(kinds) - period))
