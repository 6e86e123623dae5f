"""Which cameras are evidence of which attempt: the camera ↔ vehicle ↔ item mapping.

A camera either belongs to a vehicle — mounted in its cab or following it (a chase
camera) — and shows only that vehicle's attempts, or it is a course camera that sees
the course items it names (every item when it names none) and shows the attempts of
the classes that drive one of them. The mapping is written in the site file
(``vehicle = "V2"`` or ``items = ["c4_pile", "c4_hill"]`` on a camera; ``watches_rider``
implies ``vehicle``) and checked at start-up against the vehicles and the course.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class CameraPlace:
    camera: str
    vehicle: str | None = None  # the vehicle it is in or follows; None for a course camera
    items: tuple[str, ...] = ()  # a course camera's items; empty: the whole course

    def sees(self, vehicle_id: str, items: Iterable[str] | None) -> bool:
        """Does this camera show an attempt of ``vehicle_id`` driving ``items`` (None: not known)?"""
        if self.vehicle is not None:
            return self.vehicle == vehicle_id
        return not self.items or items is None or not set(self.items).isdisjoint(items)


def cameras_for(cameras: Iterable[str], places: dict[str, CameraPlace], vehicle_id: str,
                items: Iterable[str] | None) -> list[str]:
    """The cameras among ``cameras`` that show an attempt (a camera without a place sees the whole course)."""
    items = None if items is None else tuple(items)
    return [c for c in cameras if places.get(c, CameraPlace(c)).sees(vehicle_id, items)]


def check_places(places: dict[str, CameraPlace], vehicle_ids: Iterable[str], item_ids: Iterable[str] | None,
                 where: dict[str, str], error: type) -> None:
    """Every vehicle and item a camera names exists (a typo would leave an attempt without its camera)."""
    vehicle_ids, known_items = sorted(vehicle_ids), None if item_ids is None else set(item_ids)
    for camera, place in places.items():
        if place.vehicle is not None and place.vehicle not in vehicle_ids:
            raise error(f"{where[camera]}.vehicle: camera {camera} is on vehicle {place.vehicle!r}, which is not "
                        f"in vehicles (known: {', '.join(vehicle_ids) or 'none'})")
        if known_items is not None:
            unknown = [i for i in place.items if i not in known_items]
            if unknown:
                raise error(f"{where[camera]}.items: camera {camera} names items {unknown} that the course does "
                            f"not have (known: {', '.join(sorted(known_items))})")
