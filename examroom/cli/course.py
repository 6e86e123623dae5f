"""``examroom course new|show|check``: write a standard course, draw one, prove one drivable."""

from __future__ import annotations

import sys
from pathlib import Path

from examroom.cli.options import DEFAULT_RULES, rule_set


def add_parser(sub) -> None:
    course = sub.add_parser("course", help="build or draw a course file")
    course_sub = course.add_subparsers(dest="course_command", required=True)
    new = course_sub.add_parser("new", help="write a standard course for a class from its vehicle (GA 1029 formulas)")
    new.add_argument("--class", dest="vehicle_class", required=True, help="licence class (C3, M, C4, D, E, F, G1, ...)")
    new.add_argument("--vehicle-length", type=float, required=True, help="exam vehicle length, m")
    new.add_argument("--vehicle-width", type=float, required=True, help="exam vehicle width (without mirrors), m")
    new.add_argument("--wheelbase", type=float, help="m (default: from the length)")
    new.add_argument("--track", type=float, help="m (default: from the width)")
    new.add_argument("--kind", choices=("two_wheeler", "three_wheeler", "sidecar", "four_wheeler"),
                     help="vehicle kind (default by class; a 侧三轮 D is sidecar)")
    new.add_argument("--pile-layout", default="slalom", choices=("slalom", "bay_shift"), help="C4 桩考 layout")
    surveyed = new.add_argument_group("geometry a surveyor sets (default: the GA 1029 formulas, docs/course-file.md)")
    surveyed.add_argument("--piles", type=int, help="桩考 pile count (default 5)")
    surveyed.add_argument("--pile-spacing", type=float, help="m between piles (default: length + 0.5 / 0.4 / 0.8 m)")
    surveyed.add_argument("--pile-edge-distance", type=float,
                          help="m from the pile line to each boundary line's centre (default: width + 0.3 m)")
    surveyed.add_argument("--pole-radius", type=float, help="m (default 0.05)")
    surveyed.add_argument("--line-width", type=float, help="m, every painted line (default 0.15)")
    surveyed.add_argument("--line-reference", choices=("centre", "inner_edge"),
                          help="where lines are judged (default centre)")
    new.add_argument("--no-route-check", action="store_true",
                     help="do not run the route planner on the course written (it takes seconds per vehicle)")
    new.add_argument("--name", help="course name (default: '<class>标准考场')")
    new.add_argument("-o", "--output", type=Path, required=True, help="course file to write (TOML)")
    new.set_defaults(run=run_new)
    show = course_sub.add_parser("show", help="draw a course file as a PNG")
    show.add_argument("file", type=Path, help="course file (TOML)")
    show.add_argument("-o", "--output", type=Path, required=True, help="PNG to write")
    show.add_argument("--scale", type=float, default=30.0, help="pixels per metre (default 30)")
    show.set_defaults(run=run_show)
    check_course = course_sub.add_parser(
        "check", help="run the route planner on a course file: is there a clean route for each exam vehicle?")
    check_course.add_argument("file", type=Path, help="course file (TOML), e.g. a surveyed one")
    check_course.add_argument("--rules", type=rule_set, default=DEFAULT_RULES,
                              help="rule set (its hill reference points): a TOML file or a shipped name")
    check_course.set_defaults(run=run_check)


def run_new(args) -> int:
    from examroom.coursetools.builder import Geometry, VehicleSpec, build_course, write_course

    spec = VehicleSpec(args.vehicle_class, args.vehicle_length, args.vehicle_width, kind=args.kind,
                       wheelbase=args.wheelbase, track=args.track)
    geometry = Geometry(piles=args.piles, pile_spacing=args.pile_spacing, pile_edge_distance=args.pile_edge_distance,
                        pole_radius=args.pole_radius, line_width=args.line_width, line_reference=args.line_reference)
    data = build_course(spec, name=args.name, pile_layout=args.pile_layout, geometry=geometry)
    path = write_course(data, spec, args.output)
    print(f"{path}: {data['name']}, class {args.vehicle_class}, items {', '.join(i['id'] for i in data['items'])}")
    if not args.no_route_check:
        from scoring.course import parse_course
        from scoring.rules import load_ruleset

        course = parse_course(data)
        if not _route_checks(course, load_ruleset(DEFAULT_RULES), warn=True):
            print(f"examroom course: warning: {_pile_hint(course)}", file=sys.stderr)
    return 0


def _pile_hint(course) -> str:
    """What a surveyor can change when the slalom is too tight, with the values written."""
    import math

    from scoring.item_geometry import PileItem

    for item in course.items.values():
        if isinstance(item, PileItem) and len(item.poles) > 1:
            spacing = math.dist(item.poles[0].position, item.poles[1].position)
            edge = min(abs(line.side(item.poles[0].position)) for line in item.boundary_lines)
            return (f"{item.id}: piles {spacing:.2f} m apart, {edge:.2f} m from the pile line to the boundary "
                    f"lines; give a larger --pile-edge-distance or --pile-spacing (the file is written as it is)")
    return "the file is written as it is"


def _route_checks(course, ruleset, warn: bool) -> bool:
    """Print the planner's verdict per exam vehicle; True when every checked vehicle has a clean route."""
    from examroom.coursetools.routes import check_routes

    clean = True
    for check in check_routes(course, ruleset):
        if check.checked and not check.clean:
            clean = False
            if warn:
                print(f"examroom course: warning: {check.line()}", file=sys.stderr)
                continue
        print(check.line())
    return clean


def run_check(args) -> int:
    from scoring.course import load_course
    from scoring.rules import load_ruleset

    return 0 if _route_checks(load_course(args.file), load_ruleset(args.rules), warn=False) else 1


def run_show(args) -> int:
    from examroom.coursetools.drawing import draw_course
    from scoring.course import load_course

    path = draw_course(load_course(args.file), args.output, scale=args.scale)
    print(path)
    return 0
