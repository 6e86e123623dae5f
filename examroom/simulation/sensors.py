"""Ground truth of the course sensors, from the placed vehicle model.

- A bridge deck sensor (only where the course has them, ``deck_sensors``)
  reads active while any wheel contact point of the placed vehicle lies on
  the deck polygon; a wheel that drops off releases it by itself.
- A pole sensor reads active while the script pulses it (a touch the script
  asks for) or while the placed outline overlaps the pole's circle (a touch
  the path caused).

Geometry comes from the course file and the vehicle model
(:meth:`scoring.vehicle.VehicleModel.place`); nothing is measured twice.
"""

from __future__ import annotations

from shapely.geometry import Point

from examroom.simulation.world import VehicleTruth
from scoring.course import Course
from scoring.item_geometry import BridgeItem, PileItem
from scoring.vehicle import VehicleModel


class CourseTruth:
    """The sensors of the items one vehicle class drives, and their state for a vehicle pose."""

    def __init__(self, course: Course, vehicle: VehicleModel) -> None:
        self.vehicle = vehicle
        self.decks: list[tuple[str, object]] = []
        self.poles: list[tuple[str, object]] = []
        for item in course.items_for(vehicle.vehicle_class):
            if isinstance(item, BridgeItem) and item.deck_sensors:
                self.decks += [(deck.element, deck.polygon) for deck in item.decks.values()]
            elif isinstance(item, PileItem):
                self.poles += [(pole.element, Point(pole.position).buffer(pole.radius)) for pole in item.poles]

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(e for e, _ in self.decks) + tuple(e for e, _ in self.poles)

    def read(self, truth: VehicleTruth, pulsed: set[str] = frozenset()) -> dict[str, bool]:
        """Every sensor's state (element id -> active) with the vehicle at ``truth``."""
        placed = self.vehicle.place(truth.x, truth.y, truth.heading)
        wheels = [Point(placed.point(w)) for w in self.vehicle.wheel_names]
        state = {element: any(deck.covers(w) for w in wheels) for element, deck in self.decks}
        for element, pole in self.poles:
            state[element] = element in pulsed or placed.outline.intersects(pole)
        for element in pulsed:
            state[element] = True
        return state
