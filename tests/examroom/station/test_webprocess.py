"""The web process beside the controller: started, serving, and its database URL kept off its command line."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from examroom.station.webprocess import WEB_DATABASE_ENV, end_process, start_web_process


def test_the_database_url_goes_to_the_web_process_in_its_environment(tmp_path, copy_migrated):
    url = copy_migrated(tmp_path / "course.sqlite3")
    web, address = start_web_process(url, "http://127.0.0.1:9/", "127.0.0.1", 0, tmp_path)
    try:
        assert address.startswith("http://127.0.0.1:"), address
        with urllib.request.urlopen(address + "login", timeout=10) as page:
            assert "登录" in page.read().decode()
        command_line = Path(f"/proc/{web.pid}/cmdline").read_bytes().split(b"\0")
        assert not [arg for arg in command_line if url.encode() in arg]  # `ps` shows nobody the URL
        environment = Path(f"/proc/{web.pid}/environ").read_bytes().split(b"\0")
        assert f"{WEB_DATABASE_ENV}={url}".encode() in environment
    finally:
        end_process(web)


def test_the_web_process_is_served_by_gunicorn_not_the_development_server(tmp_path, copy_migrated):
    url = copy_migrated(tmp_path / "course.sqlite3")
    web, address = start_web_process(url, "http://127.0.0.1:9/", "127.0.0.1", 0, tmp_path, threads=40)
    try:
        with urllib.request.urlopen(address + "login", timeout=10) as page:
            assert page.headers["Server"] == "gunicorn"  # Werkzeug's development server names itself
    finally:
        end_process(web)


def test_no_module_serves_with_werkzeug_serving():
    root = Path(__file__).resolve().parents[3]
    users = [str(p.relative_to(root)) for folder in ("web", "examroom") for p in (root / folder).rglob("*.py")
             if "werkzeug.serving" in p.read_text(encoding="utf-8")]
    assert users == []
