"""``examroom serve --site FILE``: the course controller on real hardware, and its web page.

Loads and validates the site settings, starts :class:`CourseService` (devices,
controller, health watch, self-check, live feed) and the web server as its
own process (``python -m examroom_web``), as ``examroom demo`` does with simulated
devices. Stops both on Ctrl-C.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path


def add_parser(sub) -> None:
    serve = sub.add_parser("serve", help="run the course controller and web page on a site's hardware")
    serve.add_argument("--site", type=Path, required=True, help="site settings (TOML), e.g. config/sites/*.toml")
    serve.add_argument("--host", help="web host (default: the site's [web] host)")
    serve.add_argument("--port", type=int, help="web port (default: the site's [web] port)")
    serve.set_defaults(run=run)


def run(args) -> int:
    return serve(args.site, host=args.host, port=args.port)


def serve(site, host: str | None = None, port: int | None = None, feed_port: int = 0,
          stop: threading.Event | None = None) -> int:
    # Imported here: every other command builds its parser from this module too.
    from examroom.accounts.secrets_file import read_or_create_secret
    from examroom.site.settings import load_settings
    from examroom.station.service import CourseService
    from examroom.station.webprocess import end_process, start_web_process

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = load_settings(site)
    service = CourseService(settings, feed_port=feed_port,
                            command_token=read_or_create_secret(_data_dir(settings) / "command_token")).start()
    web = None
    try:
        web, address = start_web_process(
            settings.database_url, service.console_link.url, host or settings.web_host,
            settings.web_port if port is None else port, service.data_dir,
            live_url=service.video.live.url if service.video is not None else None,
            course_file=settings.course_file, rules_file=settings.rule_set_file,
            recordings_dir=service.video.settings.recordings_dir if service.video is not None else None,
            exports_dir=service.video.settings.exports_dir if service.video is not None else None,
            timezone=settings.timezone,
            trusted_proxies=settings.web_trusted_proxies, tls=settings.web_tls, threads=settings.web_threads,
            face_models_idle_minutes=settings.face_models_idle_minutes)
        if not address:
            print("examroom serve: the web server did not start", file=sys.stderr)
            return 1
        print(f"examroom serve: {len(service.runners)} devices, 考试实况 {address}  "
              f"场地信号检测 {address}selfcheck", flush=True)
        stop = stop or threading.Event()
        try:
            while not stop.wait(0.5) and web.poll() is None:
                pass
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        if web is not None:
            end_process(web)
        service.stop()


def _data_dir(settings) -> Path:
    """Where the seal key and the web process's secrets live (see CourseService.data_dir)."""
    from examroom.station.service import default_data_dir

    return settings.data_dir or default_data_dir(settings.database_url)
