"""``examroom replay``: judge an attempt again from its raw device bytes, through the same drivers."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    replay = sub.add_parser("replay", help="judge an attempt again from its raw device bytes")
    replay.add_argument("attempt", type=int, help="attempt id")
    replay.add_argument("--site", type=Path, required=True, help="site settings (TOML) with raw_capture_dir")
    replay.set_defaults(run=run)


def run(args) -> int:
    from examroom.station.capture import attempt_dir
    from examroom.records.database import make_engine, session_factory
    from examroom.records.attempt_log import Records
    from examroom.station.raw_replay import compare, replay_attempt
    from examroom.site.settings import load_settings
    from scoring.course import load_course
    from scoring.rules import load_ruleset

    settings = load_settings(args.site)
    if settings.raw_capture_dir is None:
        raise ValueError(f"{args.site}: raw_capture_dir is not set, nothing was captured")
    records = Records(session_factory(make_engine(settings.database_url, existing=True)))
    attempt = records.attempt(args.attempt)
    if attempt is None:
        raise ValueError(f"no attempt {args.attempt} in {settings.database_url}")
    directory = attempt_dir(settings.raw_capture_dir, args.attempt)
    if not directory.is_dir():
        raise ValueError(f"attempt {args.attempt}: no raw capture in {directory}")
    replayed = replay_attempt(directory, list(records.journal_lines(args.attempt)), settings,
                              load_course(settings.course_file), load_ruleset(settings.rule_set_file))
    counts = ", ".join(f"{device} {n}" for device, n in replayed.readings.items())
    print(f"attempt {args.attempt}: readings from raw bytes: {counts}")
    differences = compare(attempt.result or {}, replayed.result)
    for line in differences:
        print(f"  differs: {line}")
    print("same judgement" if not differences else f"{len(differences)} difference(s)")
    return 0 if not differences else 1
