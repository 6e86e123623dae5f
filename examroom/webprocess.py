"""Start the web server as its own process (``python -m web``) beside the controller.

The web process reads the database, follows the controller's live feed and
sends supervisors' commands with the token kept in the data folder; it never
opens a port or a camera. ``examroom demo`` and ``examroom serve`` both use it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from examroom.secrets_file import read_or_create_secret

WEB_DATABASE_ENV = "EXAMROOM_DATABASE_URL"  # read by python -m web (web/__main__.py)


def start_web_process(database_url: str, feed_url: str, host: str, port: int, data_dir: Path, *,
                      live_url: str | None = None, course_file: Path | None = None,
                      rules_file: Path | None = None, recordings_dir: Path | None = None,
                      exports_dir: Path | None = None, trusted_proxies: int = 0, tls: bool = False,
                      threads: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``python -m web``; returns the process and the address it serves (empty if it failed)."""
    command_token_file = data_dir / "command_token"
    read_or_create_secret(command_token_file)  # the controller reads the same file
    args = [sys.executable, "-m", "web", "--feed-url", feed_url,
            "--host", host, "--port", str(port), "--secret-key-file", str(data_dir / "secret_key"),
            "--command-token-file", str(command_token_file)]
    if live_url:
        args += ["--live-url", live_url]
    if course_file:
        args += ["--course-file", str(course_file)]
    if rules_file:
        args += ["--rules-file", str(rules_file)]
    if recordings_dir:
        args += ["--recordings-dir", str(recordings_dir)]
    if exports_dir:
        args += ["--exports-dir", str(exports_dir)]
    if trusted_proxies:
        args += ["--trusted-proxies", str(trusted_proxies)]
    if tls:
        args.append("--tls")
    if threads:
        args += ["--threads", str(threads)]
    # The database URL may hold a password: in the environment, not on the visible command line.
    web = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env={**os.environ, WEB_DATABASE_ENV: database_url})
    return web, web.stdout.readline().strip().removeprefix("web: ")


def end_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
