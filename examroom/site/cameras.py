"""Video settings of a site: cameras, folders, segment length, retention, live view.

In the site settings file::

    [video]
    recordings_dir = "/srv/examroom/recordings"
    cache_dir = "/dev/shm/examroom-cache"     # a tmpfs: segments are written here first
    exports_dir = "/srv/examroom/exports"
    retention_days = 7
    evidence_retention_days = 0   # sealed evidence older than this is deleted (0: kept)
    free_floor_mb = 2048
    live_port = 8091

    [[video.cameras]]
    id = "gate"
    url = "rtsp://192.168.1.64:554/Streaming/Channels/101"
    roles = ["record", "live", "analyse"]
    mode = "copy"          # the camera sends H.264; "encode" for a USB camera
    offset = -0.12         # seconds, from calibration (examroom.video.calibration)

    [[video.cameras]]
    id = "car-V2"
    url = "rtsp://192.168.1.82:554/Streaming/Channels/102"
    roles = ["record", "analyse"]
    watches_rider = "V2"   # the in-car camera facing V2's candidate: face review during attempts

    [[video.cameras]]
    id = "chase-V1"
    url = "rtsp://192.168.1.83:554/Streaming/Channels/101"
    vehicle = "V1"         # follows V1: evidence of V1's attempts only (examroom.video.placement)

    [[video.cameras]]
    id = "pile"
    url = "rtsp://192.168.1.65:554/Streaming/Channels/101"
    items = ["e_pile", "c4_pile"]   # a course camera: evidence of the attempts of classes driving these

    [[video.vision]]           # a vision sensor: lines and zones drawn on a camera's image
    camera = "gate"
    device = "vision-gate"     # its readings' device id, like a course board's
    [[video.vision.regions]]
    element = "c4_hill.stake_line"
    kind = "line"              # or "zone" (a polygon)
    points = [[412, 80], [418, 300]]
    width = 3                  # pixels, lines only
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices.camera import CameraSpec
from devices.camera.zones import Region
from scoring.fields import Fields
from examroom.video.placement import CameraPlace, check_places
from examroom.video.recorder import SEGMENT_SECONDS
from examroom.video.retention import RetentionPolicy
from examroom.site.errors import SettingsError

# One face check costs 30-120 ms of a core (bench/face_detection.py); a candidate swap or a
# helper leaning in lasts seconds, so a check every few seconds sees it.
FACE_INTERVAL = 2.0


@dataclass(frozen=True)
class VisionSettings:
    camera: str
    device: str
    regions: list[Region]

    @property
    def elements(self) -> list[str]:
        return [r.element for r in self.regions]


@dataclass(frozen=True)
class VideoSettings:
    cameras: list[CameraSpec]
    recordings_dir: Path
    cache_dir: Path
    exports_dir: Path
    segment_seconds: int = SEGMENT_SECONDS
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    live_port: int = 0
    evidence_pre: float = 5.0
    evidence_post: float = 5.0
    vision: list[VisionSettings] = field(default_factory=list)
    # vehicle id -> the in-car camera facing its candidate (``watches_rider``), checked each
    # ``face_interval`` seconds of an attempt for exactly one face (examroom.faces.watch)
    riders: dict[str, str] = field(default_factory=dict)
    face_interval: float = FACE_INTERVAL
    # camera id -> the vehicle it is on, or the course items it sees (cameras not listed see the whole course)
    places: dict[str, CameraPlace] = field(default_factory=dict)

    def camera(self, camera_id: str) -> CameraSpec:
        for spec in self.cameras:
            if spec.id == camera_id:
                return spec
        raise KeyError(f"unknown camera {camera_id!r}")


def parse_video(data: Any, base: Path) -> VideoSettings:
    """The ``[video]`` table, read strictly (scoring.fields: types, finite numbers in range, no unknown key)."""

    video = Fields(data, "video", SettingsError)

    def folder(key: str) -> Path:
        value = video.string(key)
        if not value:
            raise video.fail(f"must be a folder path, got {value!r}", key)
        return (base / value).resolve()

    camera_tables = video.tables("cameras", default=[])
    cameras = [_camera(table) for table in camera_tables]
    ids = [c.id for c in cameras]
    if len(set(ids)) != len(ids):
        raise SettingsError(f"video.cameras: duplicate camera ids in {ids}")
    riders = _riders([table.data for table in camera_tables], cameras, SettingsError)
    places = _places([table.data for table in camera_tables], cameras, riders, SettingsError)
    vision = [_vision(table, cameras) for table in video.tables("vision", default=[])]
    settings = VideoSettings(
        cameras=cameras, recordings_dir=folder("recordings_dir"), cache_dir=folder("cache_dir"),
        exports_dir=folder("exports_dir"),
        segment_seconds=int(video.number("segment_seconds", SEGMENT_SECONDS, minimum=2, maximum=60)),
        retention=RetentionPolicy(days=video.number("retention_days", 7, minimum=0.01, maximum=3650),
                                  floor_bytes=int(video.number("free_floor_mb", 2048, minimum=0, maximum=10**7)
                                                  * 1024**2),
                                  # 0 (the default): sealed evidence is kept until someone removes it
                                  evidence_days=video.number("evidence_retention_days", 0, minimum=0,
                                                             maximum=36500)),
        live_port=int(video.integer("live_port", 0, minimum=0, maximum=65535)),
        evidence_pre=video.number("evidence_pre_seconds", 5.0, minimum=0, maximum=120),
        evidence_post=video.number("evidence_post_seconds", 5.0, minimum=0, maximum=120),
        vision=vision, riders=riders, places=places,
        face_interval=video.number("face_interval_seconds", FACE_INTERVAL, minimum=0.5, maximum=60))
    video.done()
    return settings


def _camera(table: Fields) -> CameraSpec:
    try:
        camera = CameraSpec(
            id=table.string("id"), url=table.string("url"), roles=table.strings("roles", default=["record", "live"]),
            mode=table.string("mode", default="copy"),
            fps=table.number("fps", 15.0, minimum=1, maximum=60),
            width=int(table.number("width", 640, minimum=16, maximum=7680)),
            height=int(table.number("height", 360, minimum=16, maximum=4320)),
            offset=table.number("offset", 0.0, minimum=-10, maximum=10),
            title=table.string("title", default=""))
    except ValueError as exc:
        if isinstance(exc, SettingsError):
            raise
        raise table.fail(str(exc)) from None
    table.raw("watches_rider", None)  # checked by _riders
    table.raw("vehicle", None)  # vehicle and items: checked by _places
    table.raw("items", None)
    table.done()
    return camera


def _riders(tables: list[dict], cameras: list[CameraSpec], error: type) -> dict[str, str]:
    """Vehicle id -> camera id from the cameras' ``watches_rider`` (vehicle ids are checked with the vehicles)."""
    riders: dict[str, str] = {}
    for i, (table, camera) in enumerate(zip(tables, cameras)):
        if "watches_rider" not in table:
            continue
        where = f"video.cameras[{i}].watches_rider"
        vehicle = table["watches_rider"]
        if not isinstance(vehicle, str) or not vehicle.strip():
            raise error(f"{where}: must be a vehicle id, got {vehicle!r}")
        if not camera.has("analyse"):
            raise error(f"{where}: camera {camera.id} needs the role 'analyse' (its frames are checked for faces)")
        if vehicle in riders:
            raise error(f"{where}: vehicle {vehicle} is already watched by camera {riders[vehicle]}; "
                        f"give each vehicle one in-car camera")
        riders[vehicle] = camera.id
    return riders


def _places(tables: list[dict], cameras: list[CameraSpec], riders: dict[str, str],
            error: type) -> dict[str, CameraPlace]:
    """Camera id -> its place from ``vehicle`` / ``items`` (an in-car ``watches_rider`` camera is on its vehicle)."""
    watched = {camera: vehicle for vehicle, camera in riders.items()}
    places = {}
    for i, (table, camera) in enumerate(zip(tables, cameras)):
        where = f"video.cameras[{i}]"
        vehicle = table.get("vehicle", watched.get(camera.id))
        items = table.get("items", [])
        if vehicle is not None and (not isinstance(vehicle, str) or not vehicle.strip()):
            raise error(f"{where}.vehicle: must be a vehicle id, got {vehicle!r}")
        if camera.id in watched and vehicle != watched[camera.id]:
            raise error(f"{where}.vehicle: camera {camera.id} watches the rider of {watched[camera.id]} "
                        f"but is said to be on {vehicle}")
        if not isinstance(items, list) or not all(isinstance(x, str) and x for x in items):
            raise error(f"{where}.items: must be a list of course item ids, got {items!r}")
        if vehicle is not None and items:
            raise error(f"{where}: a camera is on a vehicle or sees course items, not both")
        if vehicle is not None or items:
            places[camera.id] = CameraPlace(camera.id, vehicle, tuple(items))
    return places


def check_cameras(video: VideoSettings, vehicle_ids: list[str], item_ids: list[str] | None = None) -> None:
    """The camera ↔ vehicle ↔ item mapping names only vehicles and items the site has (checked at start-up)."""

    check_riders(video, vehicle_ids)
    where = {c.id: f"video.cameras[{i}]" for i, c in enumerate(video.cameras)}
    check_places(video.places, vehicle_ids, item_ids, where, SettingsError)


def check_riders(video: VideoSettings, vehicle_ids: list[str]) -> None:
    """Every ``watches_rider`` names a vehicle of the site (a typo would leave a car unwatched, silently)."""

    for vehicle, camera in video.riders.items():
        if vehicle not in vehicle_ids:
            index = [c.id for c in video.cameras].index(camera)
            raise SettingsError(f"video.cameras[{index}].watches_rider: camera {camera} watches vehicle "
                                f"{vehicle!r}, which is not in vehicles (known: {', '.join(vehicle_ids) or 'none'})")


def _vision(table: Fields, cameras: list[CameraSpec]) -> VisionSettings:
    camera = next((c for c in cameras if c.id == table.string("camera")), None)
    if camera is None:
        raise table.fail(f"no camera {table.data['camera']!r} in video.cameras", "camera")
    if not camera.has("analyse"):
        raise table.fail(f"camera {camera.id} does not have the role 'analyse'", "camera")
    device = table.string("device")
    if not device:
        raise table.fail("must be a device id", "device")
    regions = []
    for r in table.tables("regions", default=[]):
        # Image pixels: within the largest frame a camera may have (video.cameras width, height).
        points = r.points("points", 2, extent=7680)
        try:
            regions.append(Region(element=r.string("element"), kind=r.string("kind", default="line"), points=points,
                                  width=r.integer("width", 3, minimum=1, maximum=1000),
                                  min_pixels=r.integer("min_pixels", 6, minimum=1, maximum=10**7)))
        except ValueError as exc:
            if isinstance(exc, SettingsError):
                raise
            raise r.fail(str(exc)) from None
        r.done()
    if not regions:
        raise table.fail("need at least one region", "regions")
    table.done()
    return VisionSettings(camera=camera.id, device=device, regions=regions)
