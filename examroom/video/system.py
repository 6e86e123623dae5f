"""The controller's video layer, assembled: recorders, watchdog, maintainer, evidence, retention, exports.

It runs inside the controller process, which owns the cameras. Frames-only
cameras come in as frame fan-outs (simulated cameras, or OpenCV readers of
local devices started here); network cameras are opened once, by their
recorder's ffmpeg. A camera's frames are decoded only while something wants them
(:class:`devices.camera.demand.DemandReader`): a live-view viewer, or always where a vision sensor
or the face watch is configured on it. Periodic work runs as APScheduler jobs on the controller's
scheduler: moving segments (every 2 s), linking evidence and sealing the video of
attempts whose segments are all filed (every 5 s; with an ``evidence_sealer``),
retention and the disk guard (every 30 s), stopping readers nobody watched for their linger
time (every 5 s). Exports are taken by a worker thread here and,
when the system is made with an ``export_process`` (the course service's: it names
the database, the course and the rule set the child loads to burn an attempt's
facts into overlay exports), each runs in a child process at lower priority.
"""

from __future__ import annotations

import logging
import socket
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from sqlalchemy.orm import Session, sessionmaker

from devices.camera import FrameFanout
from devices.camera.capture import CaptureReader
from devices.camera.demand import DemandReader
from devices.camera.zones import VisionRunner, VisionSensor
from devices.readings import Clock
from examroom.live.feed import LiveFeed
from examroom.video.evidence import link_attempts, seal_filed_evidence
from examroom.video.exportjobs import ExportQueue
from examroom.video.exportprocess import ExportProcess
from examroom.video.index import VideoIndex
from examroom.video.recorder import SegmentRecorder
from examroom.video.retention import RetentionGuard
from examroom.video.segments import SegmentMaintainer
from examroom.video.liveview import LiveViewServer
from examroom.video.watchdog import RecorderPart, Watchdog

if TYPE_CHECKING:  # the site file's camera section; a type only, so video does not import the site
    from examroom.records.evidence_seals import EvidenceSealer
    from examroom.site.cameras import VideoSettings

log = logging.getLogger(__name__)

# The reader's UDP receive ring, in 188-byte packets: 16384 = 3 MB, 3 s of an 8 Mbit/s stream (a live
# view wants the newest picture, not a backlog). ffmpeg fills the ring all the way round before it
# reuses it, so its whole size becomes resident: 1 000 000 packets made each copy camera's reader
# grow to 188 MB (bench/memory.py saw 6 MB a minute per 800 kbit/s camera).
UDP_FIFO_PACKETS = 16384
MAINTAIN_SECONDS = 2
EVIDENCE_SECONDS = 5
RETENTION_SECONDS = 30
IDLE_READERS_SECONDS = 5


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VideoSystem:
    def __init__(self, settings: VideoSettings, sessions: sessionmaker[Session], feed: LiveFeed, clock: Clock,
                 frame_sources: dict[str, FrameFanout] | None = None,
                 submit: Callable[[object], None] | None = None,
                 items_for_class: Callable[[str], list[str]] | None = None,
                 export_process: ExportProcess | None = None,
                 evidence_sealer: EvidenceSealer | None = None) -> None:
        self.settings = settings
        self.evidence_sealer = evidence_sealer  # signs each attempt's filed video (None: not sealed)
        self.items_for_class = items_for_class  # a class's course items, for the course cameras' evidence
        self.clock = clock
        self.feed = feed
        self.frame_sources = dict(frame_sources or {})
        for folder in (settings.recordings_dir, settings.cache_dir, settings.exports_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.index = VideoIndex(sessions)
        self.watchdog = Watchdog(self.index, publish=self._publish, now_utc=self.now_utc)
        self.recorders: dict[str, SegmentRecorder] = {}
        self.readers: dict[str, DemandReader] = {}
        # Cameras whose consumers need frames the moment they subscribe: a vision sensor learns its
        # background and reports continuously, the face watch samples from an attempt's first second.
        self.always_read = {v.camera for v in settings.vision} | set(settings.riders.values())
        for spec in settings.cameras:
            self._add_camera(spec)
        live = {s.id: self.frame_sources[s.id] for s in settings.cameras if s.has("live") and s.id in self.frame_sources}
        # Loopback only: the web process relays the pictures to signed-in staff (web.cameras);
        # bound to the LAN, any browser there could watch the course without signing in.
        self.live = LiveViewServer(live, titles={s.id: s.title or s.id for s in settings.cameras},
                                   host="127.0.0.1", port=settings.live_port,
                                   vehicles={c: p.vehicle for c, p in settings.places.items() if p.vehicle})
        self.maintainer = SegmentMaintainer(settings.cache_dir, settings.recordings_dir, self.index,
                                            self._active_runs, on_segment=self.watchdog.segment_added)
        self.retention = RetentionGuard(self.index, settings.recordings_dir, settings.retention,
                                        stop_recording=lambda: self.watchdog.pause("recorder"),
                                        resume_recording=lambda: self.watchdog.resume("recorder"),
                                        publish=self._publish,
                                        release=evidence_sealer.release if evidence_sealer is not None else None)
        self.exports = ExportQueue(sessions, self.index, settings.recordings_dir, settings.exports_dir,
                                   pre=settings.evidence_pre, post=settings.evidence_post, now_utc=self.now_utc,
                                   process=export_process)
        self._jobs: list = []
        # Vision sensors report like course boards: their readings go to the controller.
        self.vision = [VisionRunner(VisionSensor(v.device, v.regions, expected_rate=settings.camera(v.camera).fps),
                                    self.frame_sources[v.camera], submit or (lambda reading: None), clock)
                       for v in settings.vision]

    def _add_camera(self, spec) -> None:
        """Open each camera once: its frames (if anyone needs them) and its recording share that opening."""
        wants_frames = spec.mode == "encode" or spec.has("live") or spec.has("analyse")
        restream = None
        if spec.id not in self.frame_sources and wants_frames:
            if spec.mode == "copy" and spec.has("record"):
                # The recorder's ffmpeg is the one client of the camera; it re-serves the stream
                # locally for the OpenCV reader (the go2rtc pattern, without another program).
                restream = free_udp_port()
                url = f"udp://127.0.0.1:{restream}?overrun_nonfatal=1&fifo_size={UDP_FIFO_PACKETS}"
            else:
                url = spec.url
            reader = DemandReader(CaptureReader(spec, url=url, clock=self.clock), clock=self.clock,
                                  always=spec.id in self.always_read)
            self.readers[spec.id] = reader
            self.frame_sources[spec.id] = reader.fanout
        if spec.has("record"):
            self.recorders[spec.id] = SegmentRecorder(spec, self.settings.cache_dir,
                                                      fanout=self.frame_sources.get(spec.id),
                                                      segment_seconds=self.settings.segment_seconds,
                                                      restream_port=restream)

    def now_utc(self) -> datetime:
        return self.clock.now()[1]

    def _publish(self, event: dict) -> None:
        self.feed.publish(event)

    def _active_runs(self):
        return {r.run_dir for r in self.recorders.values() if r.run_dir is not None and r.alive()}

    # -- periodic work ----------------------------------------------------------------
    def maintain(self) -> None:
        self.maintainer.run()

    def link_evidence(self) -> int:
        return link_attempts(self.index, list(self.recorders), self.now_utc(), self.settings.evidence_pre,
                             self.settings.evidence_post, self.settings.places, self.items_for_class)

    def seal_evidence(self) -> list[int]:
        """Seal the video of every sealed attempt whose segments are all filed (and any a crash left)."""
        if self.evidence_sealer is None:
            return []
        return seal_filed_evidence(self.index, self.evidence_sealer, self.settings.recordings_dir,
                                   list(self.recorders), self.now_utc(), self.settings.evidence_pre,
                                   self.settings.evidence_post, self.settings.places, self.items_for_class)

    def evidence_pass(self) -> None:
        """Link, then seal what is complete: one job, so a seal never races the links it states."""
        self.link_evidence()
        self.seal_evidence()

    def enforce_retention(self):
        return self.retention.run(self.now_utc())

    def settle_readers(self) -> dict[str, str]:
        """Stop the readers nobody watched for their linger time; each reader's state after."""
        return {camera: reader.settle() for camera, reader in self.readers.items()}

    def schedule(self, scheduler) -> None:
        """Add the periodic jobs to the controller's APScheduler (one instance each, never piled up)."""
        opts = dict(trigger="interval", max_instances=1, coalesce=True)
        self._jobs = [
            scheduler.add_job(self.maintain, seconds=MAINTAIN_SECONDS, id="video-maintain", **opts),
            scheduler.add_job(self.evidence_pass, seconds=EVIDENCE_SECONDS, id="video-evidence", **opts),
            scheduler.add_job(self.enforce_retention, seconds=RETENTION_SECONDS, id="video-retention", **opts),
            scheduler.add_job(self.settle_readers, seconds=IDLE_READERS_SECONDS, id="video-idle-readers", **opts),
        ]

    # -- life -------------------------------------------------------------------------
    def start(self) -> "VideoSystem":
        self.maintainer.run()  # segments a previous run left in the cache
        for recorder in self.recorders.values():
            recorder.start()
            self.watchdog.register(RecorderPart(recorder))
        for reader in self.readers.values():  # after the recorders that re-serve their streams
            reader.start()  # reads at once only where it is always read or already has a consumer
            self.watchdog.register(reader)
        self.watchdog.start()
        self.exports.start()
        self.live.start()
        for runner in self.vision:
            runner.start()
        return self

    def stop(self) -> None:
        for runner in self.vision:
            runner.stop()
        self.watchdog.stop()
        self.live.stop()
        # Readers before recorders: a copy camera's reader reads its recorder's re-stream, and
        # while frames still flow its read returns within a frame. Stopped after the recorder, it
        # waited out its read time-out, and on a loaded machine could outlive its join and still
        # be inside FFmpeg when the interpreter exited.
        for reader in self.readers.values():
            reader.kill()
        for recorder in self.recorders.values():
            recorder.stop()
        self.maintainer.run()
        self.evidence_pass()
        self.exports.stop()

    def calibrate(self, camera: str, segments=None) -> float:
        """Measure a camera's offset from segments showing the time code, and use it from now on."""
        from examroom.video.calibration import measure_offset

        recorder = self.recorders[camera]
        segments = segments if segments is not None else self.index.all_segments(camera)[-2:]
        measured = measure_offset(self.settings.recordings_dir, segments)
        offset = recorder.spec.offset + measured
        recorder.set_offset(offset)
        log.info("camera %s calibrated: offset %.3f s", camera, offset)
        return offset

    def vision_health(self) -> list[dict]:
        return [runner.sensor.health().as_dict() for runner in self.vision]

    def health(self) -> list[dict]:
        return [{"camera": cid, "recording": r.alive(), "runs": r.runs,
                 "restarts": self.watchdog.restarts(cid)} for cid, r in self.recorders.items()]

    def reader_health(self) -> list[dict]:
        """Each decoded camera's reader: ``idle`` while nobody watches is not a fault, ``down`` is."""
        return [{"camera": cid, "state": r.state, "consumers": r.consumers, "always": r.always}
                for cid, r in self.readers.items()]
