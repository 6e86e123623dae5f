"""Where the shared captures and photos are: ``../shared/data`` beside the repository, as CI lays
it out (``EXAMROOM_SHARED_DATA`` names another folder). Not a fixed ``/work/shared``: a clone
elsewhere would find nothing there, and a test parametrized over an empty folder passes unseen."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA = Path(os.environ.get("EXAMROOM_SHARED_DATA",
                                  Path(__file__).resolve().parent.parent.parent / "shared" / "data"))
NMEA_DIR = SHARED_DATA / "nmea"
FACES_DIR = SHARED_DATA / "faces"
