"""An HTTP client signed in to the web server as a person would be (for tools and benches)."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request


def signed_in(address: str, username: str, password: str) -> urllib.request.OpenerDirector:
    """A cookie-keeping opener that has passed the sign-in form (with its CSRF token)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(address + "login").read().decode("utf-8")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password}).encode()
    opener.open(address + "login", data=body)
    return opener
