"""Start the web server as its own process (``python -m examroom_web``) beside the controller.

The web process reads the database, follows the controller's live feed and
sends supervisors' commands with the token kept in the data folder; it never
opens a port or a camera. ``examroom demo`` and ``examroom serve`` both use it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from examroom.accounts.secrets_file import read_or_create_secret

WEB_DATABASE_ENV = "EXAMROOM_DATABASE_URL"  # read by python -m examroom_web (web/__main__.py)


def start_web_process(database_url: str, feed_url: str, host: str, port: int, data_dir: Path, *,
                      live_url: str | None = None, course_file: Path | None = None,
                      rules_file: Path | None = None, recordings_dir: Path | None = None,
                      exports_dir: Path | None = None, timezone: str | None = None,
                      log_file: Path | None = None, trusted_proxies: int = 0, tls: bool = False,
                      threads: int | None = None,
                      face_models_idle_minutes: float | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``python -m examroom_web``; returns the process and the address it serves (empty if it failed)."""
    command_token_file = data_dir / "command_token"
    read_or_create_secret(command_token_file)  # the controller reads the same file
    args = [sys.executable, "-m", "examroom_web", "--feed-url", feed_url,
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
    if timezone:
        args += ["--timezone", timezone]
    if trusted_proxies:
        args += ["--trusted-proxies", str(trusted_proxies)]
    if tls:
        args.append("--tls")
    if threads:
        args += ["--threads", str(threads)]
    if face_models_idle_minutes is not None:
        args += ["--face-models-idle-minutes", repr(float(face_models_idle_minutes))]
    # The database URL may hold a password: in the environment, not on the visible command line.
    stderr = open(log_file, "a", encoding="utf-8") if log_file else None  # its log beside the controller's
    try:
        web = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, text=True, preexec_fn=_die_with_parent,
                               env={**os.environ, WEB_DATABASE_ENV: database_url})
    finally:
        if stderr is not None:
            stderr.close()
    return web, web.stdout.readline().strip().removeprefix("web: ")


def _die_with_parent() -> None:
    """In the child: be sent SIGTERM when the controller dies, however it dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except OSError:  # not Linux: the parent's own clean-up still ends the child
        pass


def end_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
