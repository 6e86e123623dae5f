"""How far a vehicle's body reaches past a painted line: the one body-out-of-bounds measure.

The judge's hill item measures the gap between the body and the edge line with it
(``hill.edge_gap_*``), and the route planner that proves a course drivable
(``examroom.coursetools.route``) measures the same gap and the clearance from a
slalom's boundary lines, so a planned route and its judgement agree on what "the
body is over the line" means: any corner of the outline past the line's judging
reference (:meth:`scoring.geometry.Line.beyond`).
"""

from __future__ import annotations

from .geometry import Line
from .vehicle import Placement


def body_beyond(placement: Placement, line: Line) -> float:
    """How far the furthest corner of the placed outline is past ``line``'s judging reference.

    Positive: the body is over the line by that much; negative: the gap the body keeps from it.
    """
    return max(line.beyond(p) for p in placement.corners)
