"""Waiting for real things that run in real time: servers, serial peers, replication.

A test that drives the code on its own clock never needs this; it is for the few tests that talk
to real processes or real pseudo-terminals, where the only honest way to know a thing happened is
to look for it again until a deadline.
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.01,
             what: str = "condition") -> T:
    """Return ``condition()``'s first truthy value; fail the test after ``timeout`` s of real time.

    The deadline only bounds a failure: a test that passes returns as soon as the condition holds,
    so it is set for a machine whose two cores are busy with the rest of the suite (CI), not for an
    idle one."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
