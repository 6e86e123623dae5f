"""Run the web server: ``python -m examroom_web --database-url URL --feed-url URL``.

The web process reads the database and follows the controller's live feed; it
never opens a serial port or a camera. With ``--city-file`` it is the city console instead
(``--database-url`` the city's database; no feed, no controller): docs/city-console.md.
"""

from __future__ import annotations

import argparse
import os
import logging
from pathlib import Path

from examroom import courseclock
from examroom.accounts.secrets_file import read_or_create_secret
from examroom.records.database_url import DatabaseURLError, database_url
from examroom.station.webprocess import WEB_DATABASE_ENV as DATABASE_ENV
from examroom_web.controlclient import ControllerClient
from examroom_web.serving import DEFAULT_THREADS, check_settings, serve

# This module runs in gunicorn's master as well as its worker. The master only starts and watches
# the worker, so the application (Flask, the models, the pages) is imported in make_app, in the
# worker: what the master imported and the worker then wrote to was resident in both.


def secret_key(path: Path) -> bytes:
    return read_or_create_secret(path).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examroom_web", description="examroom web server")
    parser.add_argument("--database-url", default=os.environ.get(DATABASE_ENV),
                        help=f"the course database (default: ${DATABASE_ENV}; prefer the variable when the URL "
                             "holds a password, as a command line is visible to every user of the machine)")
    parser.add_argument("--feed-url", help="the controller's live feed (a course's web process: required)")
    parser.add_argument("--city-file", type=Path,
                        help="the city settings file: serve the city console (网上巡查) on the city's database")
    parser.add_argument("--course-database", action="append", default=[], metavar="CODE=URL",
                        help="city console: where the city reaches a course's database for its replication "
                             "slot and lag (repeat per course; keep passwords in ~/.pgpass, not here)")
    parser.add_argument("--live-url", default="", help="the controller's live-view server (camera pictures)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--secret-key-file", required=True, type=Path,
                        help="signs session cookies; created with a random key if missing")
    parser.add_argument("--course-file", type=Path, help="the course file (default: the demo course)")
    parser.add_argument("--rules-file", type=Path, help="the rule set for re-judging (default: GA 1026-2022)")
    parser.add_argument("--command-token-file", type=Path,
                        help="the token the controller accepts commands with (supervisor actions)")
    parser.add_argument("--recordings-dir", type=Path,
                        help="the video recordings folder (served read-only to the replay page)")
    parser.add_argument("--exports-dir", type=Path,
                        help="the controller's video exports folder (finished exports are downloaded from it)")
    parser.add_argument("--timezone", default=courseclock.DEFAULT_ZONE,
                        help="the course's zone: every time a person reads is shown in it (default Asia/Shanghai)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="server threads; each open console screen holds one (default: %(default)s)")
    parser.add_argument("--trusted-proxies", type=int, default=0,
                        help="reverse proxies in front (nginx, Caddy) whose X-Forwarded-* headers are believed "
                             "(default: 0, none)")
    parser.add_argument("--tls", action="store_true",
                        help="the pages are served over HTTPS (at the proxy): cookies are marked Secure")
    parser.add_argument("--face-models-idle-minutes", type=float, default=10.0,
                        help="minutes without a face verification after which the worker drops the face models "
                             "(the site's [faces] models_idle_minutes; 1-1440, default %(default)s)")
    args = parser.parse_args(argv)
    if not 1 <= args.face_models_idle_minutes <= 1440:
        parser.error(f"--face-models-idle-minutes: must be between 1 and 1440, got {args.face_models_idle_minutes:g}")
    if not args.city_file and not args.feed_url:
        parser.error("--feed-url is required (or --city-file for the city console)")
    if not args.database_url:
        parser.error(f"no database: give --database-url or set {DATABASE_ENV}")
    try:
        courseclock.use_zone(args.timezone)
        database_url(args.database_url)  # the URL checked here; the worker makes its engine
    except (ValueError, DatabaseURLError) as exc:  # one line, before anything is opened or created
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s web %(levelname)s %(message)s")
    try:
        check_settings(args.threads, args.trusted_proxies)
    except ValueError as exc:
        parser.error(str(exc))
    controller = None
    if args.command_token_file is not None:
        controller = ControllerClient(args.feed_url, args.command_token_file.read_text().strip())
    config = {"SECRET_KEY": secret_key(args.secret_key_file), "SESSION_COOKIE_SECURE": args.tls}
    if args.course_file:
        config["COURSE_FILE"] = str(args.course_file)
    if args.rules_file:
        config["RULES_FILE"] = str(args.rules_file)
    config["LIVE_VIDEO_URL"] = args.live_url
    if args.recordings_dir:
        config["RECORDINGS_DIR"] = str(args.recordings_dir)
    if args.exports_dir:
        config["EXPORTS_DIR"] = str(args.exports_dir)

    if args.city_file:
        from examroom.city.watch_settings import CitySettingsError, load
        from examroom_web.city.console import city_app, parse_course_databases

        try:
            settings = load(args.city_file)
            course_urls = parse_course_databases(args.course_database)
        except (OSError, CitySettingsError, ValueError) as exc:
            parser.error(str(exc))
        serve(lambda: city_app(args.database_url, settings, course_urls, config), args.host, args.port,
              threads=args.threads, trusted_proxies=args.trusted_proxies,
              announce=lambda address: print(f"city web: {address}", flush=True))
        return 0

    def make_app():
        # In gunicorn's worker, after the fork: the feed reader's thread must start there.
        from examroom.live.feed import LiveFeed
        from examroom.records.attempt_log import Records
        from examroom.faces.verification import shared_models
        from examroom.records.database import make_engine, session_factory
        from examroom_web import create_app
        from examroom_web.feedclient import RemoteFeed

        shared_models.set_idle_seconds(args.face_models_idle_minutes * 60)  # the check-in page's models
        feed = LiveFeed()
        RemoteFeed(args.feed_url, feed).start()
        return create_app(Records(session_factory(make_engine(args.database_url))), feed, config,
                          controller=controller)

    serve(make_app, args.host, args.port, threads=args.threads, trusted_proxies=args.trusted_proxies,
          announce=lambda address: print(f"web: {address}", flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
