"""Course files: origin, exam vehicles, items and their order, read from TOML.

The format is documented in ``docs/course-file.md``. :func:`load_course` is
the only function here that touches the file system; :func:`parse_course`
builds a course from already-parsed data. A broken file raises
:class:`CourseError` naming the field path and the reason, e.g.
``items[2].piles: need at least 2 piles, got 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.geometry import Point, Polygon

from . import bay_layouts, layouts, small_car_layouts
from .fields import COURSE_EXTENT, ConfigError, Fields, load_file
from .geometry import REFERENCES, Line, Vec, forward
from .item_geometry import (
    CROSSING_PATTERNS,
    ITEM_TYPES,
    SIDES,
    BridgeItem,
    HillItem,
    Item,
    PileItem,
    Pole,
    deck_from_polygon,
)
from .overrides import read_overrides
from .rules import Overrides
from .vehicle import VEHICLE_CLASSES, WHEELS_BY_KIND, VehicleError, VehicleModel, build_vehicle

DEFAULT_LINE_WIDTH = 0.15  # research.md §3.5: markings are 10 or 15 cm wide

# Plausibility limits of a course file's sizes (m): past them a number is a slip, never a course.
# The five small vehicles are under 6 m long and 2.5 m wide; tractors with an implement stay
# under these limits too.
VEHICLE_LENGTH_MAX = 20.0
VEHICLE_WIDTH_MAX = 5.0
VEHICLE_EXTENT = 20.0  # antenna, outline and wheel points from the vehicle's reference point
LINE_WIDTH_MAX = 1.0  # painted lines are 10-20 cm
POLE_RADIUS_MAX = 1.0
ITEM_SIZE_MAX = 500.0  # any length, width or distance of one generated item
PILES_MAX = 50
ALTITUDE_RANGE = (-500.0, 9000.0)
# domain/README.md: the items of each class in this order (C4/D/E/F: pile, hill, bridge;
# C3/M: 倒车入库, 坡道, 侧方停车, 曲线行驶, 直角转弯; tractors: the field course).
DEFAULT_ORDER = ("reverse", "pile", "hill", "parallel", "curve", "angle", "bridge", "field")
GENERATORS = {**layouts.GENERATORS, **small_car_layouts.GENERATORS}
GENERATOR_OPTIONS = {**layouts.GENERATOR_OPTIONS, **small_car_layouts.GENERATOR_OPTIONS,
                     "field": bay_layouts.OPTIONS}
GENERATORS["field"] = bay_layouts.field
PILE_LAYOUTS = ("slalom", "bay_shift")


class CourseError(ConfigError):
    """A course file that cannot be used; the message names the field path and the reason."""


@dataclass(frozen=True)
class Origin:
    latitude: float
    longitude: float
    altitude: float


@dataclass(frozen=True)
class Course:
    name: str
    origin: Origin
    vehicles: dict[str, VehicleModel] = field(hash=False)
    items: dict[str, Item] = field(hash=False)
    order: dict[str, tuple[str, ...]] = field(hash=False)  # class -> item ids in exam order
    overrides: Overrides = field(default_factory=Overrides, hash=False)
    # The parsed file this course was read from (set by parse_course). Not an init field, so a
    # course derived with dataclasses.replace has none: it no longer is what the file says.
    source: dict[str, Any] | None = field(default=None, init=False, hash=False, compare=False, repr=False)

    def vehicle(self, model_id: str) -> VehicleModel:
        try:
            return self.vehicles[model_id]
        except KeyError:
            raise KeyError(f"course {self.name}: no exam vehicle {model_id!r}") from None

    def items_for(self, vehicle_class: str) -> tuple[Item, ...]:
        """The items a class drives, in exam order."""
        return tuple(self.items[i] for i in self.order.get(vehicle_class, ()))


def _error(message: str) -> CourseError:
    return CourseError(message)


def _read_vehicle(table: Fields) -> VehicleModel:
    kind = table.string("kind", choices=tuple(WHEELS_BY_KIND))
    wheels = None
    if table.has("wheels"):
        wheel_table = table.table("wheels")
        wheels = {name: wheel_table.point(name, extent=VEHICLE_EXTENT) for name in wheel_table.keys()}
    outline = table.points("outline", 3, extent=VEHICLE_EXTENT) if table.has("outline") else None
    try:
        model = build_vehicle(
            id=table.string("id"),
            vehicle_class=table.string("class", choices=VEHICLE_CLASSES),
            kind=kind,
            length=table.number("length", positive=True, maximum=VEHICLE_LENGTH_MAX),
            width=table.number("width", positive=True, maximum=VEHICLE_WIDTH_MAX),
            wheelbase=table.number("wheelbase", positive=True, maximum=VEHICLE_LENGTH_MAX),
            track=table.number("track", default=0.0, minimum=0.0, maximum=VEHICLE_WIDTH_MAX),
            rear_overhang=table.number("rear_overhang", default=None, minimum=0.0, maximum=VEHICLE_LENGTH_MAX),
            antenna=table.point("antenna", default=[0.0, 0.0], extent=VEHICLE_EXTENT),
            outline=outline,
            wheels=wheels,
        )
    except VehicleError as exc:
        raise table.fail(str(exc)) from exc
    table.done()
    return model


class _LineDefaults:
    def __init__(self, table: Fields) -> None:
        self.width = table.number("line_width", default=DEFAULT_LINE_WIDTH, positive=True, maximum=LINE_WIDTH_MAX)
        self.reference = table.string("line_reference", default="centre", choices=REFERENCES)


def _read_line(table: Fields, key: str, defaults: _LineDefaults, toward: Vec) -> Line:
    """A surveyed line: ``{points = [[x, y], ...], width, reference}``; positive side toward ``toward``."""
    return _line_from(table.table(key), key, defaults).oriented_towards(toward)


def _line_from(entry: Fields, name: str, defaults: _LineDefaults) -> Line:
    line = Line(
        name,
        entry.points("points", 2),
        entry.number("width", default=defaults.width, positive=True, maximum=LINE_WIDTH_MAX),
        entry.string("reference", default=defaults.reference, choices=REFERENCES),
    )
    entry.done()
    return line


def _centre(polygon: Polygon) -> Vec:
    p = polygon.representative_point()
    return (p.x, p.y)


def _midpoint(line: Line) -> Vec:
    (x0, y0), (x1, y1) = line.points[0], line.points[-1]
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def _ahead(line: Line, heading: float) -> Vec:
    """A point one metre past the line's middle in the travel direction."""
    (x, y), f = _midpoint(line), forward(heading)
    return (x + f[0], y + f[1])


def _polygon(table: Fields, key: str, what: str = "points") -> Polygon:
    polygon = Polygon(table.points(key, 3, what))
    if not polygon.is_valid or polygon.area <= 0:
        raise table.fail("points do not form a simple polygon with an area", key)
    return polygon


def _surveyed_common(table: Fields, item_id: str, item_type: str, classes: tuple[str, ...],
                     defaults: _LineDefaults) -> dict[str, Any]:
    heading = table.number("heading", minimum=-360.0, maximum=360.0)
    zone = _polygon(table, "zone")
    entry = _read_line(table, "entry", defaults, (0.0, 0.0))
    entry = entry.oriented_towards(_ahead(entry, heading))
    exit_ = _read_line(table, "exit", defaults, (0.0, 0.0))
    exit_ = exit_.oriented_towards(_ahead(exit_, heading))
    return dict(id=item_id, type=item_type, classes=classes, heading=heading, zone=zone, entry=entry, exit=exit_,
                geometry="surveyed", vehicle=table.string("vehicle", default=None))


def _surveyed_pile(table: Fields, common: dict[str, Any], defaults: _LineDefaults) -> PileItem:
    item_id = common["id"]
    positions = table.points("piles", 2, "piles")
    radius = table.number("pole_radius", default=layouts.POLE_RADIUS, positive=True, maximum=POLE_RADIUS_MAX)
    first = table.string("first_side", default="left", choices=SIDES)
    alternate = ("left", "right") if first == "left" else ("right", "left")
    sides = table.strings("sides", default=[alternate[i % 2] for i in range(len(positions))], choices=SIDES)
    if len(sides) != len(positions):
        raise table.fail(f"need one side per pile ({len(positions)}), got {len(sides)}", "sides")
    zone: Polygon = common["zone"]
    for n, p in enumerate(positions):
        if not zone.contains(Point(p)):
            raise table.fail("pile lies outside the item zone", f"piles[{n}]")
    poles = tuple(Pole(n, p, radius, s, f"{item_id}.pole{n}") for n, (p, s) in enumerate(zip(positions, sides), 1))
    centre = _centre(zone)
    return PileItem(**common, poles=poles, left_line=_read_line(table, "left_line", defaults, centre),
                    right_line=_read_line(table, "right_line", defaults, centre),
                    layout=table.string("layout", default="slalom", choices=("slalom",)))


def _surveyed_hill(table: Fields, common: dict[str, Any], defaults: _LineDefaults) -> HillItem:
    heading = common["heading"]
    stake = _read_line(table, "stake_line", defaults, (0.0, 0.0))
    controls = tuple(
        _line_from(entry, f"control{i}", defaults) for i, entry in enumerate(table.tables("control_lines", default=[]))
    )
    return HillItem(**common, stake_line=stake.oriented_towards(_ahead(stake, heading)),
                    edge_line=_read_line(table, "edge_line", defaults, _centre(common["zone"])),
                    slope_zone=_polygon(table, "slope_zone"),
                    control_lines=tuple(c.oriented_towards(_ahead(c, heading)) for c in controls))


def _surveyed_bridge(table: Fields, common: dict[str, Any], defaults: _LineDefaults) -> BridgeItem:
    deck_table = table.table("decks")
    decks = {}
    for name in deck_table.keys():
        if name not in ("A", "B"):
            raise deck_table.fail("deck names are A (甲, left) and B (乙, right)", name)
        decks[name] = deck_from_polygon(common["id"], name, _polygon(deck_table, name),
                                        _midpoint(common["entry"]), common["heading"])
    if "A" not in decks:
        raise deck_table.fail("missing deck A")
    return BridgeItem(**common, decks=decks, deck_sensors=table.boolean("deck_sensors", default=False))


_SURVEYED = {"pile": _surveyed_pile, "hill": _surveyed_hill, "bridge": _surveyed_bridge}


def _generated(table: Fields, item_id: str, item_type: str, classes: tuple[str, ...],
               vehicles: dict[str, VehicleModel], defaults: _LineDefaults) -> Item:
    model_id = table.string("vehicle")
    if model_id not in vehicles:
        raise table.fail(f"no exam vehicle {model_id!r} in vehicles", "vehicle")
    vehicle = vehicles[model_id]
    place_table = table.table("placement")
    place = layouts.Placement(place_table.number("x", minimum=-COURSE_EXTENT, maximum=COURSE_EXTENT),
                              place_table.number("y", minimum=-COURSE_EXTENT, maximum=COURSE_EXTENT),
                              place_table.number("heading", minimum=-360.0, maximum=360.0))
    place_table.done()
    options: dict[str, Any] = {}
    layout = table.string("layout", default="slalom", choices=PILE_LAYOUTS) if item_type == "pile" else None
    keys = bay_layouts.OPTIONS if layout == "bay_shift" else GENERATOR_OPTIONS[item_type]
    for key in keys:
        if not table.has(key):
            continue
        if key == "piles":
            options[key] = table.integer(key, minimum=None, maximum=PILES_MAX)
            if options[key] < 2:
                raise table.fail(f"need at least 2 piles, got {options[key]}", key)
        elif key == "first_side":
            options[key] = table.string(key, choices=SIDES)
        elif key == "layout":
            options[key] = layout
        elif key == "turn":
            options[key] = table.string(key, choices=SIDES)
        elif key == "legs":
            options[key] = table.strings(key)
            try:
                bay_layouts.parse_legs(options[key])
            except bay_layouts.LegError as exc:
                raise table.fail(str(exc)) from exc
        elif key == "deck_sensors":
            options[key] = table.boolean(key)
        else:
            options[key] = table.number(key, positive=True, maximum=ITEM_SIZE_MAX)
    if item_type == "bridge" and vehicle.kind != "two_wheeler" and vehicle.track <= 0:
        raise table.fail(f"vehicle {model_id} needs a track to lay out two decks", "vehicle")
    style = layouts.LineStyle(defaults.width, defaults.reference)
    try:
        if layout == "bay_shift":
            return bay_layouts.pile_bay_shift(item_id, classes, place, vehicle, style, options)
        return GENERATORS[item_type](item_id, classes, place, vehicle, style, options)
    except ValueError as exc:
        raise table.fail(str(exc)) from exc


def _read_item(table: Fields, vehicles: dict[str, VehicleModel]) -> Item:
    item_id = table.string("id")
    item_type = table.string("type", choices=ITEM_TYPES)
    classes = table.strings("classes", choices=VEHICLE_CLASSES)
    if not classes:
        raise table.fail("need at least 1 class", "classes")
    defaults = _LineDefaults(table)
    mode = table.string("geometry", default="generated", choices=("generated", "surveyed"))
    if mode == "generated":
        item = _generated(table, item_id, item_type, classes, vehicles, defaults)
    elif item_type not in _SURVEYED:
        raise table.fail(f"{item_type} items are generated only (surveyed geometry: pile, hill, bridge)", "geometry")
    else:
        common = _surveyed_common(table, item_id, item_type, classes, defaults)
        item = _SURVEYED[item_type](table, common, defaults)
    table.done()
    return item



def _check_bridge_patterns(table: Fields, item: BridgeItem, vehicles: dict[str, VehicleModel]) -> None:
    for vehicle in vehicles.values():
        if vehicle.vehicle_class not in item.classes:
            continue
        for deck, _ in CROSSING_PATTERNS[vehicle.kind]:
            if deck not in item.decks:
                raise table.fail(f"a {vehicle.kind} ({vehicle.id}) crosses deck {deck}, which this item lacks",
                                 "decks")


def _default_order_for(root: Fields, items: dict[str, Item], cls: str) -> tuple[str, ...]:
    chosen: list[str] = []
    for item_type in DEFAULT_ORDER:
        matches = [i.id for i in items.values() if i.type == item_type and cls in i.classes]
        if len(matches) > 1:
            raise root.fail(f"class {cls} has {len(matches)} {item_type} items ({', '.join(matches)}); "
                            f"give their order in [order]", "order")
        chosen += matches
    return tuple(chosen)


def _read_order(root: Fields, items: dict[str, Item]) -> dict[str, tuple[str, ...]]:
    """``[order]`` gives each class's item ids; a class not listed drives pile, hill, bridge."""
    table = root.table("order", default={})
    order: dict[str, tuple[str, ...]] = {}
    for cls in table.keys():
        if cls not in VEHICLE_CLASSES:
            raise table.fail(f"unknown class {cls!r} (known: {', '.join(VEHICLE_CLASSES)})", cls)
        ids = table.strings(cls)
        for i, item_id in enumerate(ids):
            if item_id not in items:
                raise table.fail(f"no item {item_id!r}", f"{cls}[{i}]")
            if cls not in items[item_id].classes:
                raise table.fail(f"item {item_id!r} does not serve class {cls}", f"{cls}[{i}]")
        if len(set(ids)) != len(ids):
            raise table.fail("an item is listed twice", cls)
        order[cls] = ids
    for cls in VEHICLE_CLASSES:
        if cls not in order:
            default = _default_order_for(root, items, cls)
            if default:
                order[cls] = default
    return order


def _check_overlaps(root: Fields, items: dict[str, Item]) -> None:
    """Items a class drives must not overlap: entering one would look like entering the other."""
    listed = list(items.values())
    for i, a in enumerate(listed):
        for b in listed[i + 1:]:
            if set(a.classes) & set(b.classes) and a.zone.intersection(b.zone).area > 0:
                raise root.fail(f"items {a.id} and {b.id} serve the same class and their zones overlap", "items")


def parse_course(data: dict[str, Any]) -> Course:
    """Build a course from parsed TOML; raises CourseError naming the field."""
    root = Fields(data, "", _error)
    name = root.string("name")
    origin_table = root.table("origin")
    origin = Origin(
        latitude=origin_table.number("latitude", minimum=-90.0, maximum=90.0),
        longitude=origin_table.number("longitude", minimum=-180.0, maximum=180.0),
        altitude=origin_table.number("altitude", default=0.0, minimum=ALTITUDE_RANGE[0], maximum=ALTITUDE_RANGE[1]),
    )
    origin_table.done()
    vehicles: dict[str, VehicleModel] = {}
    for entry in root.tables("vehicles"):
        model = _read_vehicle(entry)
        if model.id in vehicles:
            raise entry.fail(f"duplicate vehicle id {model.id!r}", "id")
        vehicles[model.id] = model
    items: dict[str, Item] = {}
    item_tables = root.tables("items")
    for entry in item_tables:
        item = _read_item(entry, vehicles)
        if item.id in items:
            raise entry.fail(f"duplicate item id {item.id!r}", "id")
        if isinstance(item, BridgeItem):
            _check_bridge_patterns(entry, item, vehicles)
        items[item.id] = item
    _check_overlaps(root, items)
    order = _read_order(root, items)
    overrides = read_overrides(root.table("overrides", default={}))
    root.done()
    course = Course(name=name, origin=origin, vehicles=vehicles, items=items, order=order, overrides=overrides)
    object.__setattr__(course, "source", data)  # frozen: set once, here
    return course


def load_course(path: str | Path) -> Course:
    """Load and validate a course TOML file."""
    return load_file(Path(path), CourseError, parse_course)
