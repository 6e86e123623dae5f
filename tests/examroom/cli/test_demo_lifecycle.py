"""`examroom demo` is pleasant to start and stop: quiet start, passwords kept, SIGTERM ends every child."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.process_tree import descendants

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextmanager
def as_from_a_terminal():
    """Children started inside get SIGINT at its default, as from a terminal, where Ctrl-C reaches
    them. A shell without job control starts its background jobs with SIGINT ignored, and a
    process inherits that: a test runner started so (a CI script's background job) would start the
    demo deaf to SIGINT, since Python leaves an ignored SIGINT ignored, and the demo would be right
    to go on (two fresh-clone runs of this session hung here so). A handler of the test process's
    own becomes the default in a child."""
    before = signal.getsignal(signal.SIGINT)
    if before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_the_demo_starts_quietly_keeps_its_passwords_and_stops_with_its_children(tmp_path, how):
    with as_from_a_terminal():
        demo = subprocess.Popen([sys.executable, "-m", "examroom.cli.main", "demo", "--speed", "12", "--port", "0",
                                 "--dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        printed = []
        for line in demo.stdout:  # until the passwords are printed: the demo has started
            printed.append(line)
            if "passwords kept in" in line:
                break
        text = "".join(printed)
        assert f"starting in {tmp_path}" in text and f"log: {tmp_path / 'demo.log'}" in text
        assert " INFO " not in text, "the start-up log goes to demo.log, not the terminal"
        assert (tmp_path / "demo.log").stat().st_size > 0
        accounts = (tmp_path / "demo-accounts.txt")
        assert oct(accounts.stat().st_mode & 0o777) == "0o600"
        kept = accounts.read_text().split()
        for role in ("admin", "supervisor", "auditor"):
            username, password = kept[kept.index(role) + 1], kept[kept.index(role) + 2]
            assert f"{role:<10} {username} / {password}" in text, "printed once, the same as kept"
        address = next(line.split("考试实况 ")[1].split()[0] for line in printed if "考试实况" in line)
        with urllib.request.urlopen(address + "favicon.ico") as icon:  # a favicon, through its redirect
            assert icon.headers["Content-Type"].startswith("image/svg+xml")
        port = int(address.rstrip("/").rsplit(":", 1)[1])
        children = descendants(demo.pid)
        assert children, "the web server runs as a child"

        demo.send_signal(how)
        out, err = demo.communicate(timeout=60)
        assert demo.returncode in (0, 130), err[-2000:]
        assert not [pid for pid in children if _alive(pid)], "a child process outlived the demo"
        with socket.socket() as s:  # the web port is free again: nobody listens on it
            # SO_REUSEADDR as every server sets it: the closed connections' TIME_WAIT does not
            # hold the port, a listening socket does (Linux refuses the bind then).
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
        assert "done; records in" in out and str(tmp_path) in out
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
