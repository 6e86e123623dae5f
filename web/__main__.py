"""Run the web server: ``python -m web --database-url URL --feed-url URL``.

The web process reads the database and follows the controller's live feed; it
never opens a serial port or a camera.
"""

from __future__ import annotations

import argparse
import logging

from werkzeug.serving import make_server

from examroom.database import make_engine, session_factory
from examroom.livefeed import LiveFeed
from examroom.records import Records
from web import create_app
from web.feedclient import RemoteFeed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web", description="examroom web server")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--feed-url", required=True, help="the controller's live feed")
    parser.add_argument("--live-url", default="", help="the controller's live-view server (camera pictures)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s web %(levelname)s %(message)s")
    feed = LiveFeed()
    RemoteFeed(args.feed_url, feed).start()
    app = create_app(Records(session_factory(make_engine(args.database_url))), feed,
                     {"LIVE_VIDEO_URL": args.live_url})
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"web: http://{args.host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
