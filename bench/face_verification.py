"""1:1 face verification (issue 17): distance ranges, false accepts, time per check, model memory.

Inputs: the public-domain photos in EXAMROOM_FACE_PHOTOS (default /work/shared/data/faces; see its
README), clean (scaled to about 640×480 pixels) and degraded at run time (JPEG quality 30,
320×240, grey, ±30 % brightness, and all at once). Each probe is compared with the clean
reference of every other photo. Times are per check on true 640×480 frames (the photo fitted
into the frame), CPU time on this thread. Memory: resident set before and after loading the
models, in a fresh child process. Exits non-zero on any false accept.

Run: python bench/face_verification.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from examroom.faces.verification import THRESHOLD, Outcome, compare, face_models  # noqa: E402
from tests.examroom.face_photos import PHOTOS, VARIANTS, fit_area, on_frame, photo  # noqa: E402

MEMORY_CHILD = """
import resource, sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
import numpy, cv2
before = rss()
from examroom.faces.verification import face_models
face_models()
print(f"{before:.0f} {rss():.0f}")
"""


def main() -> int:
    models = face_models()
    refs = {n: models.read(fit_area(photo(n), 640, 480)).descriptor for n in PHOTOS}
    false_accepts = 0
    print(f"threshold {THRESHOLD}; {len(PHOTOS)} photos of 3 people; each probe against the 5 other clean references")
    print(f"{'probe':13s} {'faces':>5s} {'same-person':>13s} {'different':>13s} {'false acc':>9s} {'false rej':>9s}")
    for variant, make in VARIANTS.items():
        same, diff, found, fa, fr = [], [], 0, 0, 0
        for probe in PHOTOS:
            reading = models.read(make(photo(probe)))
            if reading.descriptor is None:
                print(f"    {probe}: cannot tell ({reading.unclear})")
                continue
            found += 1
            for ref in PHOTOS:
                if ref == probe:
                    continue
                verdict = compare(refs[ref], reading)
                if PHOTOS[ref] == PHOTOS[probe]:
                    same.append(verdict.distance)
                    fr += verdict.outcome is Outcome.MISMATCH
                else:
                    diff.append(verdict.distance)
                    fa += verdict.outcome is Outcome.MATCH
        false_accepts += fa
        print(f"{variant:13s} {found:>3d}/{len(PHOTOS)} {min(same):.3f}-{max(same):.3f}  "
              f"{min(diff):.3f}-{max(diff):.3f} {fa:9d} {fr:9d}")

    frames = [on_frame(photo(n), 640, 480) for n in PHOTOS]
    models.read(frames[0])  # warm-up
    times = []
    for _ in range(5):
        for frame in frames:
            t0 = time.process_time()
            compare(refs["collins_nasa_portrait.png"], models.read(frame))
            times.append(time.process_time() - t0)
    times.sort()
    print(f"time per check, 640x480 frame (detect + landmarks + descriptor + distance), {len(times)} runs: "
          f"min {times[0] * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms, "
          f"max {times[-1] * 1000:.0f} ms CPU = {1 / statistics.median(times):.1f} checks/s/core")

    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD], capture_output=True, text=True, env=env, check=True)
    before, after = (float(v) for v in out.stdout.split())
    print(f"memory: the three models take {after - before:.0f} MB resident "
          f"({before:.0f} MB with numpy and OpenCV imported, {after:.0f} MB after loading)")
    print(f"false accepts: {false_accepts} (must be 0)")
    return 1 if false_accepts else 0


if __name__ == "__main__":
    sys.exit(main())
