"""Where a ``next`` parameter may send the browser: a path on this site, and nothing else.

Browsers forgive a great deal in a URL: they drop tabs and line breaks anywhere in it and read a
backslash as a slash, so ``/%09/evil.example`` and ``/\\evil.example`` both become
``//evil.example``, another host. A target is accepted only when, read the browser's way, it is
still a path of this site; control characters are refused outright (400).
"""

from __future__ import annotations

import re
import urllib.parse

from flask import abort

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def local_target(target: str | None, default: str, *, refuse_control: bool = True) -> str:
    """``target`` if it is a same-site path, else ``default``; 400 on control characters if ``refuse_control``.

    Sign-in passes ``refuse_control=False``: the person is signed in by then, and goes to ``default``.
    """
    if not target:
        return default
    if CONTROL.search(target):
        if refuse_control:
            abort(400, description="next: control characters")
        return default
    if "\\" in target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return default
    return target
