"""The controller process's C heap: how many malloc arenas its threads share.

glibc gives a thread that allocates while another holds an arena an arena of its
own, up to eight per core, and each arena keeps what was freed in it for its own
later use. The controller runs about fifty threads (device runners, the
scheduler's, the live feed, the video jobs), most of them Python under the GIL,
which seldom allocate at the same moment. In the fleet bench (bench/README.md,
ninth session) its main heap and 15 arenas held 83 MB, the face models' 46 in
one of them; with two arenas, 73 MB, and its anonymous memory was 10 MB lower.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8  # glibc's <malloc.h>
CONTROLLER_ARENAS = 2


def limit_arenas(count: int = CONTROLLER_ARENAS) -> None:
    """Let this process have at most ``count`` malloc arenas (glibc; elsewhere nothing happens).

    glibc fixes the limit when the process first has more than eight, so this is called before
    the threads start (the course service, and before it the demo, whose twins start threads as
    they are made); arenas made before stay, and calling it again changes nothing.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        ctypes.CDLL(name).mallopt(M_ARENA_MAX, count)
    except (OSError, AttributeError):
        pass
