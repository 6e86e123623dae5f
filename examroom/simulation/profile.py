"""Speed profiles: how far along a path a vehicle is, moment by moment.

Speed changes follow a smoothstep ramp (3u² − 2u³) rather than a constant
acceleration, so acceleration itself starts and ends at zero: no jerk spikes in
the pose stream, the way a rider eases the throttle or the brake. The mean
acceleration of a ramp is the ``accel`` given; its peak is 1.5 times that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _ramp_distance(v_from: float, v_to: float, rate: float) -> float:
    # A smoothstep ramp covers the same distance as a constant-acceleration one.
    return abs(v_to**2 - v_from**2) / (2.0 * rate)


@dataclass(frozen=True)
class SpeedProfile:
    """Ramp from ``v0`` to ``peak``, cruise, ramp down to ``v1``, covering ``length`` metres."""

    length: float
    v0: float
    peak: float
    v1: float
    accel: float
    decel: float

    @classmethod
    def plan(cls, length: float, cruise: float, v0: float = 0.0, v1: float = 0.0,
             accel: float = 0.8, decel: float = 0.8) -> "SpeedProfile":
        """The fastest profile up to ``cruise`` that starts at ``v0`` and ends at ``v1``.

        On a run too short to reach ``cruise`` the peak is lowered; a run too
        short even for that raises, because the script asks for the impossible.
        """
        if length <= 0:
            raise ValueError("a run must have a positive length")
        if cruise <= 0 or accel <= 0 or decel <= 0:
            raise ValueError("cruise speed and rates must be positive")
        if max(v0, v1) > cruise + 1e-9:
            raise ValueError(f"entry/exit speed {max(v0, v1)} above cruise {cruise}")
        need = _ramp_distance(v0, cruise, accel) + _ramp_distance(cruise, v1, decel)
        peak = cruise
        if need > length:
            # Both ramps meet: peak² from length = (p²−v0²)/2a + (p²−v1²)/2d.
            peak = math.sqrt((length + v0**2 / (2 * accel) + v1**2 / (2 * decel))
                             / (1 / (2 * accel) + 1 / (2 * decel)))
            if peak + 1e-9 < max(v0, v1):
                raise ValueError(f"{length:.2f} m is too short to go from {v0} to {v1} m/s")
            peak = max(peak, v0, v1)
        return cls(length, v0, peak, v1, accel, decel)

    @property
    def _t_up(self) -> float:
        return abs(self.peak - self.v0) / self.accel

    @property
    def _t_down(self) -> float:
        return abs(self.peak - self.v1) / self.decel

    @property
    def _t_cruise(self) -> float:
        up = _ramp_distance(self.v0, self.peak, self.accel)
        down = _ramp_distance(self.peak, self.v1, self.decel)
        return max(0.0, self.length - up - down) / self.peak

    @property
    def duration(self) -> float:
        return self._t_up + self._t_cruise + self._t_down

    def at(self, t: float) -> tuple[float, float]:
        """(distance covered, speed) at ``t`` seconds into the run."""
        t = min(max(t, 0.0), self.duration)
        t_up, t_cr = self._t_up, self._t_cruise
        if t < t_up:
            return _ramp(self.v0, self.peak, t_up, t)
        s_up = _ramp(self.v0, self.peak, t_up, t_up)[0]
        if t < t_up + t_cr:
            return s_up + self.peak * (t - t_up), self.peak
        s_cr = s_up + self.peak * t_cr
        s, v = _ramp(self.peak, self.v1, self._t_down, t - t_up - t_cr)
        return min(self.length, s_cr + s), v


def _ramp(v_from: float, v_to: float, duration: float, t: float) -> tuple[float, float]:
    if duration <= 0:
        return 0.0, v_to
    u = min(max(t / duration, 0.0), 1.0)
    dv = v_to - v_from
    speed = v_from + dv * (3 * u**2 - 2 * u**3)
    distance = v_from * t + dv * duration * (u**3 - u**4 / 2.0)
    return distance, speed
