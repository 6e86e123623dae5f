"""``examroom demo``: a whole simulated course with the web page; ``--city N``: N courses and their city."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    demo = sub.add_parser("demo", help="run a whole simulated course with the web page")
    demo.add_argument("--dir", type=Path, help="data folder (default: a new temporary folder)")
    demo.add_argument("--speed", type=float, default=1.0, help="simulation speed-up factor (default 1)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080, help="web port (0: any free port)")
    demo.add_argument("--rounds", type=int, default=0, help="stop after this many rounds (0: run forever)")
    demo.add_argument("--verbose", action="store_true",
                      help="show the log here (default: in demo.log in the data folder)")
    demo.add_argument("--database", metavar="URL",
                      help="keep the records in this empty database, e.g. postgresql://USER@HOST/NAME "
                           "(default: SQLite in the data folder)")
    demo.add_argument("--course-code", default="", help="the simulated course's 考场代码 (default: none)")
    demo.add_argument("--city", type=int, metavar="N",
                      help="N simulated courses (1-9) and a city, each on a PostgreSQL cluster made in the data "
                           "folder with this machine's initdb/pg_ctl; no web page; typing a course's number and "
                           "Enter cuts or restores its link, q quits")
    demo.set_defaults(run=run)


def run(args) -> int:
    if args.city is not None:
        from examroom.simulation.city_demo import check_arguments, run_city_demo

        check_arguments(args.city, args.database, args.course_code)
        return run_city_demo(args.city, args.dir, speed=args.speed, verbose=args.verbose)
    from examroom.simulation.demo import run_demo

    return run_demo(data_dir=args.dir, speed=args.speed, host=args.host, port=args.port,
                    rounds=args.rounds, verbose=args.verbose, database_url=args.database,
                    course_code=args.course_code)
