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
    deadline = time.monotonic() + 2.0
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not leaked, f"threads left running: {leaked}"
