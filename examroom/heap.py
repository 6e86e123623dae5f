"""The process's C heap (glibc's malloc): how many arenas its threads share, and freed pages handed back.

glibc gives a thread that allocates while another holds an arena an arena of its
own, up to eight per core, and each arena keeps what was freed in it for its own
later use. The controller runs about fifty threads (device runners, the
scheduler's, the live feed, the video jobs), most of them Python under the GIL,
which seldom allocate at the same moment. In the fleet bench (bench/README.md,
ninth session) its main heap and 15 arenas held 83 MB, the face models' 46 in
one of them; with two arenas, 73 MB, and its anonymous memory was 10 MB lower.

Elsewhere than glibc both calls do nothing. Imports no other room.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8  # glibc's <malloc.h>
CONTROLLER_ARENAS = 2


def _glibc_call(name: str, *args: int) -> None:
    library = ctypes.util.find_library("c")
    if not library:
        return
    try:
        getattr(ctypes.CDLL(library), name)(*args)
    except (OSError, AttributeError):
        pass


def limit_arenas(count: int = CONTROLLER_ARENAS) -> None:
    """Let this process have at most ``count`` malloc arenas.

    glibc fixes the limit when the process first has more than eight, so this is called before
    the threads start (the course service, and before it the demo, whose twins start threads as
    they are made); arenas made before stay, and calling it again changes nothing.
    """
    _glibc_call("mallopt", M_ARENA_MAX, count)


def trim_heap() -> None:
    """Give the C heap's free pages back to the system.

    dlib frees its face models into glibc's heap, which keeps most of them resident for later
    allocations: without the trim a release returned little of what the models held
    (examroom.faces.loaded_models).
    """
    _glibc_call("malloc_trim", 0)
