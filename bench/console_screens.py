"""Console screens on the live event stream: how many at once, and the delay from event to screen.

The chain is the real one: a live feed published here goes through the controller's console link
to the web app, served in its own process by the server under test, and out of ``/live/stream``
(server-sent events) to N screens signed in as a supervisor. The screens are read by a separate
process (asyncio, one connection each), so the publisher's clock and the screens' clock are the
machine's wall clock. Each event carries its publication time; each screen notes when it arrives.

Servers compared: ``gunicorn`` with the threaded worker (what ``python -m examroom_web`` runs, through
web/serving.py: one process, as many threads), ``waitress`` with as many threads, and ``werkzeug`` (the development server,
one thread per connection: the baseline this replaced).

Run: ``.venv/bin/python bench/console_screens.py [--servers waitress gunicorn werkzeug]
[--screens 100 500] [--events 40] [--rate 4]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from examroom.accounts.users import Accounts, Role
from examroom.records.database import make_engine, session_factory, upgrade
from examroom.live.link import ConsoleLink
from examroom.live.feed import LiveFeed
from examroom.records.attempt_log import Records
from examroom_web.signin_client import signed_in

PASSWORD = "bench-password-1"
THREADS = 600  # each open screen holds a server thread, under every server compared


def serve(kind: str, database_url: str, feed_url: str) -> None:
    """Child process: the web app on a free port under ``kind``; prints its address."""
    from examroom_web import create_app
    from examroom_web.feedclient import RemoteFeed

    def make_app():
        feed = LiveFeed()
        RemoteFeed(feed_url, feed).start()
        return create_app(Records(session_factory(make_engine(database_url))), feed,
                          {"SECRET_KEY": "bench", "SSE_KEEPALIVE_SECONDS": 15.0})

    if kind != "gunicorn":
        app = make_app()  # gunicorn's worker makes its own after the fork: threads do not survive one
    if kind == "waitress":
        from waitress.server import create_server

        app.config["STREAM_LIMIT"] = THREADS - 16
        server = create_server(app, host="127.0.0.1", port=0, threads=THREADS, connection_limit=THREADS + 100,
                               channel_timeout=120)
        print(f"http://127.0.0.1:{server.effective_port}/", flush=True)
        server.run()
    elif kind == "werkzeug":
        import logging

        from werkzeug.serving import make_server as dev_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per screen otherwise
        server = dev_server("127.0.0.1", 0, app, threaded=True)
        print(f"http://127.0.0.1:{server.server_port}/", flush=True)
        server.serve_forever()
    elif kind == "gunicorn":
        from examroom_web.serving import serve as production

        production(make_app, "127.0.0.1", 0, threads=THREADS, announce=lambda address: print(address, flush=True))
    else:
        raise SystemExit(f"unknown server {kind}")


async def _screen(host: str, port: int, cookie: str, ready: asyncio.Event, opened: list, delays: list) -> None:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    writer.write(f"GET /live/stream HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                 f"Accept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    opened.append(1)
    while True:
        line = await reader.readline()
        if not line:
            return
        if not line.startswith(b"data: "):
            continue
        event = json.loads(line[6:])
        if event.get("type") == "bench":
            delays.append(time.time() - event["sent"])
        elif event.get("type") == "state":
            ready.set()


async def _screens(address: str, cookie: str, count: int) -> None:
    """Child process: open ``count`` screens, say "ready", then print the delays when stdin closes."""
    host, port = address.split("//")[1].rstrip("/").split(":")
    opened: list = []
    delays: list[float] = []
    tasks = []
    for _ in range(count):
        ready = asyncio.Event()
        tasks.append(asyncio.create_task(_screen(host, int(port), cookie, ready, opened, delays)))
        await asyncio.sleep(0.002)
    while len(opened) < count:
        failed = [t for t in tasks if t.done()]
        if failed:
            failed[0].result()
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # every screen's first state
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(json.dumps({"opened": len(opened), "delays": delays}), flush=True)


def _cookie(address: str) -> str:
    opener = signed_in(address, "supervisor", PASSWORD)
    jar = next(h for h in opener.handlers if hasattr(h, "cookiejar")).cookiejar
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn's worker is a child of its master)."""
    rss = int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0])
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            rss += _tree_rss_kb(int(child))
    return rss


def run(kind: str, screens: int, events: int, rate: float, folder: Path) -> dict:
    database_url = f"sqlite:///{folder / f'{kind}-{screens}.sqlite3'}"
    engine = make_engine(database_url)
    upgrade(engine)
    Accounts(session_factory(engine)).create("supervisor", PASSWORD, Role.SUPERVISOR)
    feed = LiveFeed()
    feed.publish({"type": "started"}, vehicle_state={"vehicle": "V1", "status": "running", "score": 100})
    console_link = ConsoleLink(feed).start()
    me = Path(__file__).resolve()
    env = {**os.environ, "PYTHONPATH": str(me.parent.parent)}
    web = subprocess.Popen([sys.executable, str(me), "--serve", kind, database_url, console_link.url],
                           stdout=subprocess.PIPE, text=True, env=env)
    client = None
    try:
        address = web.stdout.readline().strip()
        for _ in range(100):
            try:
                cookie = _cookie(address)
                break
            except OSError:
                time.sleep(0.1)
        client = subprocess.Popen([sys.executable, str(me), "--screens-client", address, cookie, str(screens)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        if client.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{kind}: {screens} screens could not all connect")
        rss_kb = _tree_rss_kb(web.pid)
        for _ in range(events):
            feed.publish({"type": "bench", "sent": time.time()})
            time.sleep(1 / rate)
        time.sleep(2.0)  # the last event's way to every screen
        client.stdin.close()
        answer = json.loads(client.stdout.readline())
    finally:
        for process in (client, web):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        console_link.stop()
    delays = sorted(d * 1000 for d in answer["delays"])
    expected = screens * events

    def pct(p: float) -> float:
        return delays[min(len(delays) - 1, int(p * len(delays)))] if delays else float("nan")

    return {"server": kind, "screens": answer["opened"], "received": len(delays), "expected": expected,
            "p50": pct(0.50), "p99": pct(0.99), "worst": delays[-1] if delays else float("nan"),
            "rss_mb": rss_kb / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", nargs="+", default=["gunicorn", "waitress", "werkzeug"])
    parser.add_argument("--screens", nargs="+", type=int, default=[100, 500])
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--rate", type=float, default=4.0, help="events per second")
    parser.add_argument("--serve", nargs=3, metavar=("SERVER", "DATABASE_URL", "FEED_URL"), help=argparse.SUPPRESS)
    parser.add_argument("--screens-client", nargs=3, metavar=("ADDRESS", "COOKIE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return 0
    if args.screens_client:
        asyncio.run(_screens(args.screens_client[0], args.screens_client[1], int(args.screens_client[2])))
        return 0
    lost = False
    with tempfile.TemporaryDirectory(prefix="examroom-bench-") as folder:
        for screens in args.screens:
            for kind in args.servers:
                r = run(kind, screens, args.events, args.rate, Path(folder))
                lost |= r["received"] != r["expected"]
                print(f"console_screens: {r['server']:<8} {r['screens']:>4} screens, {r['received']}/{r['expected']} "
                      f"events arrived: event-to-screen p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms, "
                      f"worst {r['worst']:.0f} ms; server RSS {r['rss_mb']:.0f} MB", flush=True)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
