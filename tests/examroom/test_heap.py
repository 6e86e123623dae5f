"""The controller's limit on malloc arenas (examroom.heap), seen from glibc's own count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import ctypes, ctypes.util, sys, threading
from examroom.heap import limit_arenas
if sys.argv[1] == "limit":
    limit_arenas()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
together = threading.Barrier(6)


def allocate():
    libc.malloc(100)
    together.wait()  # all alive at once: an ended thread's arena would go to the next one


threads = [threading.Thread(target=allocate) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc.malloc_stats()  # glibc: one "Arena N:" paragraph each, on stderr
"""


def _arenas(mode: str) -> int:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr.count("Arena ")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_the_threads_of_a_limited_process_share_two_arenas():
    assert _arenas("free") > 2  # each new thread gets an arena of its own
    assert _arenas("limit") == 2
