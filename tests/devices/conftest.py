"""Shared fixtures for device tests: a null modem, waiting helpers, thread-leak check."""

from __future__ import annotations

import threading
import time

import pytest

from devices.nullmodem import NullModem
from tests.waiting import wait_for  # noqa: F401  (the device tests import it from here)



@pytest.fixture
def modem():
    with NullModem() as m:
        yield m


@pytest.fixture(autouse=True)
def no_thread_leak():
    """Every test must stop what it started: drivers, twins and null modems."""
    before = set(threading.enumerate())
    yield
    # A thread stopped at the end of a test may still be on its way out: join it (the wait is
    # on the thread itself), for at most two seconds in all.
    deadline = time.monotonic() + 2.0
    for thread in set(threading.enumerate()) - before:
        thread.join(max(0.0, deadline - time.monotonic()))
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"
