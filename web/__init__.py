"""The Flask application: thin views over examroom's records and live feed.

The web layer never opens a serial port or a camera; it reads the database and
subscribes to the controller's live feed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import Babel

from examroom.livefeed import LiveFeed
from examroom.records import Records


def create_app(records: Records, feed: LiveFeed | None = None,
               config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        BABEL_DEFAULT_LOCALE="zh_CN",
        SSE_KEEPALIVE_SECONDS=15.0,
        JSON_AS_ASCII=False,
    )
    if config:
        app.config.update(config)
    app.extensions["examroom.records"] = records
    app.extensions["examroom.feed"] = feed or LiveFeed()
    Babel(app)
    app.json.ensure_ascii = False

    from web import filters
    from web.live import bp as live_bp
    from web.results import bp as results_bp
    from web.selfcheck import bp as selfcheck_bp

    filters.init_app(app)
    app.register_blueprint(live_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(selfcheck_bp)
    return app
