"""One export job in a child process: started, watched and stopped by the controller's export worker.

An overlay export decodes, draws and encodes for minutes. Inside the controller
process it would compete for the GIL and the two cores with the judge and the
device drivers reading at 10–20 Hz, so the worker starts
``python -m examroom.video.exportrun`` for each job instead: the child lowers
its own priority (nice 10), opens the database itself and writes the job's
progress and outcome to its row, as the worker thread did.

The child leads its own process group, so the ffmpeg processes it starts go
with it when it is stopped or killed. Its temporary files live in a folder the
worker makes and removes whatever happens to the child (a killed process cannot
clean up after itself), and it ends itself when the controller is gone, so no
orphan goes on writing a job the next controller start queues again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from examroom import courseclock
from scoring import config_files

# The database URL goes to the child in its environment: on the command line
# ``ps`` would show a PostgreSQL password to every user of the machine.
DATABASE_ENV = "EXAMROOM_EXPORT_DATABASE"
NICENESS = 10
TERMINATE_GRACE = 5.0  # seconds a terminated child has to go before it is killed
LOG_NAME = "child.log"

# The folder holding the examroom package: the child must run the parent's code,
# whatever the working directory or the installed copy.
CODE_ROOT = config_files.code_root()


@dataclass(frozen=True)
class ExportProcess:
    """How the export worker starts a child: the database it shares, and what an overlay export loads."""

    database_url: str
    course_file: Path | None = None
    rule_set_file: Path | None = None
    province_files: tuple[Path, ...] = ()
    niceness: int = NICENESS

    def command(self, job_id: int, recordings_dir: Path, exports_dir: Path, parent_pid: int) -> list[str]:
        args = [sys.executable, "-m", "examroom.video.exportrun", "--job", str(job_id),
                "--recordings", str(recordings_dir), "--exports", str(exports_dir),
                "--parent", str(parent_pid), "--nice", str(self.niceness),
                "--timezone", str(courseclock.zone().key)]  # titles, chapters and names in the course's time
        if self.course_file is not None and self.rule_set_file is not None:
            args += ["--course", str(self.course_file), "--rules", str(self.rule_set_file)]
            for path in self.province_files:
                args += ["--province", str(path)]
        return args

    def environment(self, scratch: Path) -> dict[str, str]:
        path = os.pathsep.join(p for p in (str(CODE_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        return {**os.environ, DATABASE_ENV: self.database_url, "TMPDIR": str(scratch), "PYTHONPATH": path}

    def start(self, job_id: int, recordings_dir: Path, exports_dir: Path) -> "RunningExport":
        """Start the child for a job the worker has already marked ``running``."""
        return RunningExport(self, job_id, recordings_dir, exports_dir)


class RunningExport:
    """A started child: its pid, its end, and how it ended."""

    def __init__(self, spec: ExportProcess, job_id: int, recordings_dir: Path, exports_dir: Path) -> None:
        self.job_id = job_id
        self.scratch = Path(tempfile.mkdtemp(prefix=f"export-{job_id}-"))
        try:
            with open(self.scratch / LOG_NAME, "wb") as log_file:
                self.process = subprocess.Popen(
                    spec.command(job_id, recordings_dir, exports_dir, os.getpid()), stdin=subprocess.DEVNULL,
                    stdout=log_file, stderr=subprocess.STDOUT, env=spec.environment(self.scratch),
                    start_new_session=True)
        except BaseException:
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self) -> int:
        """Wait for the child to end; any ffmpeg it left behind (it was killed) is killed too."""
        code = self.process.wait()
        self._signal_group(signal.SIGKILL)
        return code

    def terminate(self, grace: float = TERMINATE_GRACE) -> None:
        """Ask the child (and its ffmpeg) to end; kill them if they have not after ``grace`` seconds."""
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)  # the child leads its group (start_new_session)
        except ProcessLookupError:
            pass  # everyone in it has already gone

    def ending(self) -> str:
        """How the child ended, in words, for the job's row."""
        code = self.process.returncode
        if code is None:
            return "is still running"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"was killed by {name}"
        last = next((line for line in reversed(self.log_text().splitlines()) if line.strip()), "")
        return f"exited with status {code}" + (f": {last.strip()}" if last else "")

    def log_text(self, limit: int = 4000) -> str:
        """The end of what the child wrote to its output (its log and any traceback)."""
        try:
            data = (self.scratch / LOG_NAME).read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def close(self) -> None:
        """Remove the child's temporary folder (its log with it)."""
        shutil.rmtree(self.scratch, ignore_errors=True)
