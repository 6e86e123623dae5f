"""Resident memory of a running course: every process of the controller, after N minutes.

Two cases, each run in a child process tree that this script only watches:

* ``fleet`` — the course controller (``examroom.station.service.CourseService``, started the way
  the demo starts it: ``examroom.simulation.demo.DemoCourse``) with 4 simulated exam vehicles
  (E, C4, E, C4) driving the demo's scripted scenarios in a loop, 8 cameras recorded by stream
  copy (``mode = "copy"``, roles record + live, the site default), and the web process
  (``python -m examroom_web``). The cameras are H.264 MPEG-TS streams on local TCP ports, each an ffmpeg
  encoding a test picture live; they stand in for IP cameras, so they are started here, outside
  the measured tree, and not counted.
* ``demo`` — ``examroom demo`` as a person runs it: 2 vehicles, the simulated cameras (two
  encoded in the controller, one served as H.264 by a simulated network camera and recorded by
  copy), the web process. The simulated camera's encoder is in the tree; it is shown on its own
  line and left out of the total, like the fleet's sources.

After ``--minutes`` the script reads, for every process of the tree, RSS (``VmRSS``) and
PSS/USS (``/proc/PID/smaps_rollup``: USS = private clean + private dirty), and what dominates a
process: its mappings from ``/proc/PID/smaps`` grouped by library (the shared objects of numpy,
OpenCV, PyAV, FFmpeg, ... by their folder in site-packages; the anonymous heap apart). For the
Python libraries it also measures a bare interpreter importing each one, to attribute the heap
their import leaves behind.

    python bench/memory.py --minutes 10            # both cases, 10 minutes each
    python bench/memory.py --case fleet --minutes 2
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024
GOAL_MB = 400  # issue 15: the 4 vehicles + 8 copy cameras case
SAMPLE_SECONDS = 15.0
# Libraries whose import a bare interpreter is measured for (the ones the processes load).
IMPORTS = ("numpy", "cv2", "av", "shapely", "sqlalchemy", "flask", "apscheduler", "pymodbus", "serial",
           "pynmea2", "alembic", "gunicorn.app.base", "reportlab.platypus", "openpyxl")
# Project modules measured the same way: what each process's entry point imports.
ENTRY_IMPORTS = ("scoring.judge", "examroom.station.service", "examroom_web.__main__")


# -- reading /proc ------------------------------------------------------------------------------
def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        tree[ppid].append(int(entry))
    return tree


def process_tree(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop(0)
        found.append(pid)
        todo.extend(sorted(tree.get(pid, ())))
    return found


def _cmdline(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]


def rollup(pid: int) -> dict[str, int]:
    """RSS, PSS and USS in bytes (smaps_rollup)."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[-1] == "kB":
                values[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return {"rss": values.get("Rss", 0), "pss": values.get("Pss", 0),
            "uss": values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)}


_SITE = re.compile(r"/site-packages/([^/]+)")


def _owner(path: str) -> str:
    """The library a mapping belongs to: a site-packages folder (``numpy.libs`` counts as numpy), a
    system library by its name, or the kind of anonymous memory."""
    if not path:
        return "anonymous (heap, arenas, stacks)"
    if path.startswith("["):
        return "anonymous (heap, arenas, stacks)" if path in ("[heap]", "[stack]") else path
    m = _SITE.search(path)
    if m:
        name = m.group(1)
        name = re.sub(r"(\.libs|\.dylibs|-[0-9].*|\.py|\.cpython.*\.so|\.abi3\.so)$", "", name)
        return {"opencv_python_headless": "cv2", "opencv_python": "cv2", "imageio_ffmpeg": "imageio_ffmpeg (ffmpeg)",
                "_cffi_backend": "cffi"}.get(name, name)
    base = os.path.basename(path)
    if base.startswith(("libav", "libsw", "libpostproc", "libx264", "libx265")):
        return "ffmpeg libraries (system)"
    if re.match(r"(lib)?python3", base) or "/lib/python3" in path:
        return "python (interpreter, stdlib)"
    if "ffmpeg" in base:
        return "ffmpeg (executable)"
    return "other shared objects (libc, ...)" if ".so" in base else base


def by_library(pid: int) -> dict[str, int]:
    """PSS in bytes per library (see :func:`_owner`)."""
    totals: dict[str, int] = defaultdict(int)
    path = ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(None, 6)
            if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                path = head[5].strip() if len(head) > 5 else ""
            elif head and head[0] == "Pss:":
                totals[_owner(path)] += int(head[1]) * 1024
    return totals


def _parent_is_web(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as f:
        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    return _cmdline(ppid)[1:3] == ["-m", "examroom_web"]


def role(pid: int, root: int) -> str:
    args = _cmdline(pid)
    text = " ".join(args)
    if pid == root:
        return "controller (+ simulated devices)"
    if args[1:3] == ["-m", "examroom_web"]:
        # gunicorn: the master (started by the controller) forks the worker that serves the pages.
        return "web worker (gunicorn)" if _parent_is_web(pid) else "web master (python -m examroom_web, gunicorn)"
    if "ffmpeg" in os.path.basename(args[0] if args else ""):
        if "listen=1" in text:
            return "simulated camera (H.264 source, not counted)"
        m = re.search(r"/cache/([^/]+)/run-", text)
        if m and "-segment_time" in text:
            kind = "copy" if "-c copy" in text else "encode"
            return f"recorder {m.group(1)} ({kind})"
        return "ffmpeg (other)"
    return "child: " + (" ".join(args)[:60] if args else str(pid))



def counted(name: str) -> bool:
    return "not counted" not in name


def snapshot(root: int) -> list[tuple[int, str, dict[str, int]]]:
    rows = []
    for pid in process_tree(root):
        try:
            rows.append((pid, role(pid, root), rollup(pid)))
        except (OSError, IndexError):
            continue  # ended meanwhile
    return rows


# -- what a bare interpreter's imports cost ---------------------------------------------------------
_IMPORT_PROBE = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
with open('/proc/self/smaps_rollup') as f:
    values = {l.split()[0].rstrip(':'): int(l.split()[1]) for l in f if l.rstrip().endswith('kB')}
print(values['Rss'], values['Pss'], values['Private_Clean'] + values['Private_Dirty'])
"""


def import_cost(*names: str) -> tuple[int, int, int] | None:
    result = subprocess.run([sys.executable, "-c", _IMPORT_PROBE, *names], capture_output=True, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    if result.returncode != 0:
        return None
    rss, pss, uss = (int(v) * 1024 for v in result.stdout.split())
    return rss, pss, uss


def print_import_costs() -> None:
    bare = import_cost()
    print(f"\nimports in a bare interpreter (RSS / USS added to a bare {sys.executable.split('/')[-1]}: "
          f"RSS {bare[0] / MB:.1f} MB, USS {bare[2] / MB:.1f} MB):")
    for name in IMPORTS + ENTRY_IMPORTS:
        cost = import_cost(name)
        if cost is None:
            print(f"  {name:<28} not installed")
            continue
        print(f"  {name:<28} +{(cost[0] - bare[0]) / MB:6.1f} MB RSS  +{(cost[2] - bare[2]) / MB:6.1f} MB USS")


# -- the cases ------------------------------------------------------------------------------------
FLEET = (("V1", "甘K·3071学", "E"), ("V2", "甘K·3072学", "C4"), ("V3", "甘K·3073学", "E"), ("V4", "甘K·3074学", "C4"))


def start_sources(count: int, size: str, rate: int, bitrate: str) -> tuple[list[subprocess.Popen], list[int]]:
    """``count`` H.264 MPEG-TS streams served live on local TCP ports, as IP cameras would."""
    from devices.camera.ffmpeg import ffmpeg_exe
    from examroom.simulation.cameras import free_tcp_port

    ports = [free_tcp_port() for _ in range(count)]
    # A copy of the binary: the sources must not share the recorders' ffmpeg pages (PSS would split them).
    exe = Path(tempfile.mkdtemp(prefix="memory-sources-")) / "ffmpeg-source"
    shutil.copy2(ffmpeg_exe(), exe)

    def serve(port: int) -> subprocess.Popen:
        return subprocess.Popen(
            [str(exe), "-hide_banner", "-loglevel", "quiet", "-re", "-f", "lavfi", "-i",
             f"testsrc2=size={size}:rate={rate}", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
             "-b:v", bitrate, "-g", str(2 * rate), "-threads", "1", "-f", "mpegts",
             f"tcp://127.0.0.1:{port}?listen=1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    processes = [serve(port) for port in ports]

    def keep_serving() -> None:  # like a camera, serve the next client when one leaves (a recorder restart)
        while not SOURCES_STOP.is_set():
            for i, process in enumerate(processes):
                if process.poll() is not None and not SOURCES_STOP.is_set():
                    processes[i] = serve(ports[i])
            SOURCES_STOP.wait(0.5)

    SOURCES_STOP.clear()
    threading.Thread(target=keep_serving, daemon=True).start()
    return processes, ports


SOURCES_STOP = threading.Event()


def serve_fleet(data_dir: Path, ports: list[int], size: str, rate: int, roles: tuple[str, ...]) -> int:
    """The child: the controller with the fleet and the copy cameras, and the web process, until SIGTERM."""
    import logging

    from devices.camera import CameraSpec
    from examroom.simulation.course_twins import SimVehicle
    from examroom.simulation.demo import DemoCourse
    from examroom.simulation.scenarios import DEMO_MODELS
    from examroom.site.cameras import VideoSettings
    from examroom.station.webprocess import end_process, start_web_process
    from examroom.video.retention import RetentionPolicy

    log_file = data_dir / "memory.log"
    logging.basicConfig(filename=log_file, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    width, height = (int(v) for v in size.split("x"))
    cameras = [CameraSpec(f"cam{i + 1}", f"tcp://127.0.0.1:{port}", roles=roles, mode="copy", fps=rate, width=width,
                          height=height, title=f"摄像机 {i + 1}") for i, port in enumerate(ports)]
    video = VideoSettings(cameras=cameras, recordings_dir=data_dir / "recordings", cache_dir=data_dir / "cache",
                          exports_dir=data_dir / "exports",
                          retention=RetentionPolicy(days=1.0, floor_bytes=256 * MB))
    vehicles = [SimVehicle(id=vid, plate=plate, model=DEMO_MODELS[cls]) for vid, plate, cls in FLEET]
    demo = DemoCourse(data_dir, 1.0, vehicles=vehicles, video=video).start()
    web = None
    try:
        web, address = start_web_process(demo.database_url, demo.service.console_link.url, "127.0.0.1", 0, data_dir,
                                         live_url=demo.service.video.live.url,
                                         recordings_dir=video.recordings_dir, exports_dir=video.exports_dir,
                                         log_file=log_file)
        stop = threading.Event()
        threading.Thread(target=demo.run_rounds, args=(0, stop), name="sim-rounds", daemon=True).start()
        print(f"ready {address}", flush=True)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        if web is not None:
            end_process(web)
        demo.stop()
    return 0


def _attempts(data_dir: Path) -> str:
    """How many attempts the run finished (read from the database after the run)."""
    try:
        import sqlite3

        with sqlite3.connect(data_dir / "examroom.sqlite3") as db:
            return str(db.execute("select count(*) from attempts where status in ('passed', 'failed')").fetchone()[0])
    except Exception as error:  # noqa: BLE001 — a figure for the reader only
        return f"? ({error})"


def run_case(case: str, minutes: float, args) -> int:
    """Start the case's process tree, sample it for ``minutes``, print the table; the total in bytes."""
    sources: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix=f"memory-{case}-") as folder:
        data_dir = Path(folder)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if case == "fleet":
            sources, ports = start_sources(args.cameras, args.size, args.rate, args.bitrate)
            time.sleep(1.0)  # the sources listen
            command = [sys.executable, __file__, "--serve", str(data_dir), "--ports", ",".join(map(str, ports)),
                       "--size", args.size, "--rate", str(args.rate), "--roles", args.roles]
        else:
            command = [sys.executable, "-c", "import sys; from examroom.cli.main import main; sys.exit(main())",
                       "demo", "--dir", str(data_dir), "--port", "0"]
        # The controller's and the recorders' complaints go to a file (OpenCV's are many while a stream starts).
        stderr = open(data_dir / "stderr.log", "w")
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT, env=env)
        try:
            started = time.monotonic()
            for line in child.stdout:  # the demo prints its address once started; the fleet prints "ready"
                if line.startswith("ready") or "考试实况" in line:
                    break
            else:
                stderr.flush()
                said = (data_dir / "stderr.log").read_text(errors="replace").strip().splitlines()[-15:]
                print(f"{case}: the course did not start; its last words:", *said, sep="\n  ", file=sys.stderr)
                return 0
            threading.Thread(target=lambda: [None for _ in child.stdout], daemon=True).start()
            print(f"\n{case}: started in {time.monotonic() - started:.0f} s; measuring after {minutes:g} min",
                  flush=True)
            peak = 0
            first: dict[int, int] = {}  # pid -> PSS at the first sample (one minute in), to show growth
            deadline = time.monotonic() + minutes * 60
            while time.monotonic() < deadline:
                time.sleep(min(SAMPLE_SECONDS, max(0.0, deadline - time.monotonic())))
                rows = snapshot(child.pid)
                if time.monotonic() - started >= 60:
                    for pid, _, r in rows:
                        first.setdefault(pid, r["pss"])
                peak = max(peak, sum(r["pss"] for _, name, r in rows if counted(name)))
            rows = snapshot(child.pid)
            for pid, _, r in rows:
                r["growth"] = r["pss"] - first.get(pid, r["pss"])
            libraries = {pid: by_library(pid) for pid, name, _ in rows
                         if not name.startswith(("recorder", "simulated"))}
            recorder = next((pid for pid, name, _ in rows if name.startswith("recorder")), None)
            if recorder is not None:
                libraries[recorder] = by_library(recorder)
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            SOURCES_STOP.set()
            time.sleep(0.6)
            for source in sources:
                source.kill()
                source.wait()
        attempts = _attempts(data_dir)
        stderr.close()
    print_table(case, minutes, rows, libraries, peak, attempts)
    return sum(r["pss"] for _, name, r in rows if counted(name))


def print_table(case, minutes, rows, libraries, peak, attempts) -> None:
    print(f"{case} after {minutes:g} min ({attempts} attempts finished):")
    print(f"  {'process':<48} {'pid':>7} {'RSS MB':>8} {'PSS MB':>8} {'USS MB':>8} {'PSS growth':>10}")
    total = defaultdict(int)
    for pid, name, r in rows:
        print(f"  {name:<48} {pid:>7} {r['rss'] / MB:8.1f} {r['pss'] / MB:8.1f} {r['uss'] / MB:8.1f} "
              f"{r['growth'] / MB:+10.1f}")
        if counted(name):
            for key in ("rss", "pss", "uss", "growth"):
                total[key] += r[key]
    print(f"  {'total (counted processes)':<48} {'':>7} {total['rss'] / MB:8.1f} {total['pss'] / MB:8.1f} "
          f"{total['uss'] / MB:8.1f} {total['growth'] / MB:+10.1f}")
    print("  (PSS growth: since the first sample, one minute after the start)")
    print(f"  PSS total is the figure (RSS counts shared libraries once per process); "
          f"peak PSS total while running {peak / MB:.1f} MB"
          + (f"; goal <= {GOAL_MB} MB" if case == "fleet" else ""))
    names = {pid: name for pid, name, _ in rows}
    for pid, parts in libraries.items():
        top = sorted(parts.items(), key=lambda kv: -kv[1])[:8]
        print(f"  what dominates {names[pid]} (PSS by library): "
              + ", ".join(f"{lib} {size / MB:.1f}" for lib, size in top))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("fleet", "demo", "both"), default="both")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--cameras", type=int, default=8, help="copy cameras of the fleet case")
    parser.add_argument("--size", default="640x360", help="the fleet cameras' picture size")
    parser.add_argument("--rate", type=int, default=15, help="the fleet cameras' frame rate")
    parser.add_argument("--bitrate", default="800k")
    parser.add_argument("--roles", default="record,live",
                        help="the fleet cameras' roles (record,live, the site default: the controller decodes "
                             "each stream for the live view)")
    parser.add_argument("--no-imports", action="store_true", help="skip the bare-interpreter import costs")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the fleet's child process
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        return serve_fleet(args.serve, [int(p) for p in args.ports.split(",")], args.size, args.rate,
                           tuple(args.roles.split(",")))
    print(f"machine: {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    totals = {}
    for case in (("fleet", "demo") if args.case == "both" else (args.case,)):
        totals[case] = run_case(case, args.minutes, args)
    if not args.no_imports:
        print_import_costs()
    print()
    for case, total in totals.items():
        print(f"memory: {case} total PSS {total / MB:.0f} MB"
              + (f" (goal <= {GOAL_MB} MB)" if case == "fleet" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
