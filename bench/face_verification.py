"""1:1 face verification (issue 17): distance ranges, false accepts, time per check, model memory.

Inputs: the public-domain photos in EXAMROOM_FACE_PHOTOS (default ../shared/data/faces beside the repository; see its
README), clean (scaled to about 640×480 pixels) and degraded at run time (JPEG quality 30,
320×240, grey, ±30 % brightness, and all at once). Each probe is compared with the clean
reference of every other photo. Times are per check on true 640×480 frames (the photo fitted
into the frame), CPU time on this thread. Memory: resident set and PSS before loading the models and
after checking every frame with them, in a fresh child process, and PSS once they are released
as after the site's idle time (examroom.faces.loaded_models). Exits non-zero on any false accept.

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
def mb(field, path):
    for line in open(path):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
import dlib, numpy, cv2
from devices.readings import ManualClock
from examroom.faces.verification import shared_models
from tests.examroom.face_photos import PHOTOS, on_frame, photo
frames = [on_frame(photo(n), 640, 480) for n in PHOTOS]
before = mb('VmRSS:', '/proc/self/status')
pss_before = mb('Pss:', '/proc/self/smaps_rollup')
shared_models.clock = clock = ManualClock()
for frame in frames:  # the working memory of real checks, not the bare load
    shared_models.get().read(frame)
after = mb('VmRSS:', '/proc/self/status')
pss_used = mb('Pss:', '/proc/self/smaps_rollup')
clock.advance(shared_models.idle_seconds)
assert shared_models.release_if_idle()
pss_released = mb('Pss:', '/proc/self/smaps_rollup')
print(f"{before:.1f} {after:.1f} {pss_before:.1f} {pss_used:.1f} {pss_released:.1f}")
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
    before, after, pss_before, pss_used, pss_released = (float(v) for v in out.stdout.split())
    print(f"memory: the three models and their checks of {len(PHOTOS)} frames take {after - before:.0f} MB resident "
          f"({before:.0f} MB with dlib, numpy, OpenCV and the frames, {after:.0f} MB after); PSS "
          f"{pss_before:.1f} -> {pss_used:.1f} MB, released after the idle time: {pss_released:.1f} MB "
          f"({pss_used - pss_released:.1f} MB given back)")
    print(f"false accepts: {false_accepts} (must be 0)")
    return 1 if false_accepts else 0


if __name__ == "__main__":
    sys.exit(main())
