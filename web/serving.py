"""Serve the web app with gunicorn's threaded worker, optionally behind a reverse proxy.

gunicorn (one worker process, ``gthread``) was chosen over waitress by ``bench/console_screens.py``:
console screens on the server-sent event stream, event-to-screen delay (figures in bench/README.md).
One worker, because the live feed, the open-stream count and the rate limits live in its memory.
Each open event stream holds one of the worker's threads for as long as the screen stays, so the
pool is sized for the screens plus the pages and API calls around them, and the stream view
refuses a screen past ``STREAM_LIMIT`` (503 with Retry-After) rather than leave pages without one.

Behind nginx or Caddy (TLS ends there, docs/web-server.md) the app must believe the proxy's
``X-Forwarded-For`` / ``-Proto`` / ``-Host`` / ``-Port`` / ``-Prefix``, and only the proxy's:
``trusted_proxies`` is how many proxies stand in front (0: none, the headers are ignored).
gunicorn's own forwarded-header handling is switched off so that count alone decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from flask import Flask

DEFAULT_THREADS = 600
# Threads kept for pages, the API and sign-in when every other thread is holding a screen's stream.
RESERVED_THREADS = 16


def check_settings(threads: int, trusted_proxies: int) -> None:
    if trusted_proxies < 0:
        raise ValueError("trusted proxies: 0 or more")
    if threads <= RESERVED_THREADS:
        raise ValueError(f"threads: more than {RESERVED_THREADS}")


def behind_proxies(app: Flask, trusted_proxies: int) -> Flask:
    """Honour X-Forwarded-* from that many proxies in front (ProxyFix); 0 leaves the app as it is."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    check_settings(DEFAULT_THREADS, trusted_proxies)
    if trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies,
                                x_host=trusted_proxies, x_port=trusted_proxies, x_prefix=trusted_proxies)
    return app


def serve(make_app: Callable[[], Flask], host: str, port: int, *, threads: int = DEFAULT_THREADS,
          trusted_proxies: int = 0, announce: Callable[[str], None] = print) -> None:
    """Run gunicorn until it is told to stop; ``announce`` gets the address once it listens.

    ``make_app`` runs in the worker process, after the fork: threads it starts (the live feed's
    reader) live there, where the requests are served.
    """
    from gunicorn.app.base import BaseApplication

    check_settings(threads, trusted_proxies)

    def when_ready(server) -> None:
        bound_host, bound_port = server.LISTENERS[0].sock.getsockname()[:2]
        announce(f"http://{bound_host}:{bound_port}/")

    class WebServer(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": 1, "worker_class": "gthread", "threads": threads,
                "worker_connections": threads + 100,
                # A stream sends a keep-alive comment every SSE_KEEPALIVE_SECONDS; idle keep-alive
                # connections of pages are closed after a few seconds.
                "keepalive": 5, "timeout": 60,
                # Streams never finish on their own: on stop, give requests a moment, not 30 s.
                "graceful_timeout": 3,
                "forwarded_allow_ips": "",  # ProxyFix with the configured count decides, not gunicorn
                "proxy_allow_ips": "",
                "accesslog": None, "errorlog": "-", "loglevel": "warning",
                "when_ready": when_ready, "proc_name": "examroom-web",
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            app = behind_proxies(make_app(), trusted_proxies)
            app.config["STREAM_LIMIT"] = threads - RESERVED_THREADS
            return app

    WebServer().run()
