"""What a camera is: where its picture comes from, what it is used for, how it is recorded."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("record", "live", "analyse")
MODES = ("copy", "encode")


@dataclass(frozen=True)
class CameraSpec:
    """One camera of the course.

    ``url`` is an RTSP/HTTP/TCP/file URL or a local device (``/dev/video0`` or a
    device index such as ``"0"``); ``sim:<name>`` names a simulated camera that
    pushes frames in-process. ``mode`` says how it is recorded: ``copy`` for a
    camera that sends H.264 (its stream is copied into segments, never
    re-encoded), ``encode`` for a source that only gives frames (encoded once to
    H.264). ``offset`` is the calibrated delay in seconds added to the times the
    recorder sees to get the moment the picture was taken (a camera's capture
    and network latency make it negative).
    """

    id: str
    url: str
    roles: tuple[str, ...] = ("record", "live")
    mode: str = "copy"
    fps: float = 15.0
    width: int = 640
    height: int = 360
    offset: float = 0.0
    title: str = ""
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        if not self.id or "/" in self.id or "@" in self.id:
            raise ValueError(f"camera id {self.id!r}: must be non-empty, without '/' or '@'")
        unknown = [r for r in self.roles if r not in ROLES]
        if unknown:
            raise ValueError(f"camera {self.id}: unknown roles {unknown} (known: {', '.join(ROLES)})")
        if self.mode not in MODES:
            raise ValueError(f"camera {self.id}: mode must be one of {MODES}, got {self.mode!r}")
        if not 1 <= self.fps <= 60:
            raise ValueError(f"camera {self.id}: fps must be between 1 and 60, got {self.fps}")

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_device(self) -> bool:
        return self.url.isdigit() or self.url.startswith("/dev/video")
