"""An attempt's evidence for a city inspector: fetched on demand, cached, checked against its seal.

The journal is already at the city (replicated with the records); the video stays at the course
(docs/city.md) and is fetched from the course's web process, the way an auditor's browser gets
it on the replay page: signed in as the city's auditor account at that course, the attempt's
``/attempts/<id>/video.json`` lists its evidence segments and each segment's file is downloaded.
Files are kept in the city's evidence cache (``<cache>/<course>/<attempt>/``, with a
``manifest.json``), so a second look needs no course, and survives the course going offline.

Before anything is shown it is checked:

- the attempt's seal, record and journal chain verify (``records.verify``: the journal's rows and
  head, the check-in photo's digest and every recorded field are what was sealed);
- the attempt's evidence seal (``records.evidence_seals``: the course's signed statement of its
  video, per camera each segment's file, times, size and SHA-256, naming the attempt's seal by its
  digest) verifies with the records: signature, link to the seal, place in the course's evidence
  chain. Exactly the segments it names are fetched, and each file is checked against its sealed
  size and digest *before* it is cached: a file with other bytes is deleted as it arrives, named
  in the problems, and the evidence is refused (``mismatch``), never shown. A sealed segment the
  course deleted by its evidence retention (a signed evidence release, replicated to the city,
  names it; ``records.verify`` reports it) is listed in ``video_gone`` and not fetched; a sealed
  segment the course does not serve otherwise is a mismatch;
- an attempt without an evidence seal (sealed before evidence seals, or its video not filed yet):
  the state says the video is unsealed, the digests of the first fetch are pinned in the
  manifest, and a later fetch that brings other bytes is a mismatch;
- the segments' times cover the attempt from its start to its end per camera; what they leave
  uncovered is listed (``video_gaps``; a warning, ``examroom.city.warnings.video_gaps``).

A course that cannot be reached is a state (``offline``: 考场离线，待其恢复), never an exception: the
review waits, and the cached evidence, if any, is still shown.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom.accounts.audit import AuditLog
from examroom.city.watch_settings import CourseLink
from examroom.courseclock import as_utc
from examroom.messages import N_
from examroom.records.evidence_seals import SealedSegment, sealed_segments, sha256_file
from examroom.records.models import Attempt, EvidenceSeal, JournalEntry, Seal
from examroom.records.verify import verify

VERIFIED = "verified"  # everything checked against the seal
VIDEO_UNSEALED = "video_unsealed"  # the records verify; the seal names no video digest to check it by
MISMATCH = "mismatch"  # something differs from the seal (or from the first fetch): not shown
OFFLINE = "offline"  # the course cannot be reached: the review waits
UNSEALED = "unsealed"  # the attempt has no seal (yet): nothing to check it against
NO_COURSE_LINK = "no_course_link"  # the city settings name no address for the course

STATE_TEXT = {
    VERIFIED: N_("证据已与封存摘要核对一致"),
    VIDEO_UNSEALED: N_("记录与封存一致；录像没有封存摘要，已核对时间覆盖，并与首次取回的摘要比对"),
    MISMATCH: N_("证据与封存不一致，不予显示"),
    OFFLINE: N_("考场离线，待其恢复"),
    UNSEALED: N_("该考试尚未封存，无从核对"),
    NO_COURSE_LINK: N_("城市设置中没有该考场的地址"),
}
SHOWN = (VERIFIED, VIDEO_UNSEALED)
# Beside a shown state: some sealed video is no longer at the course (its evidence retention).
VIDEO_GONE_TEXT = N_("部分录像已按考场的证据保存期限删除，其封存摘要仍在")
MANIFEST = "manifest.json"
CHUNK = 1 << 16


class CourseOffline(Exception):
    """The course's web process did not answer (refused, unreachable, timed out)."""


class CourseRefused(Exception):
    """The course answered, but not with what was asked for (sign-in refused, no such attempt)."""


@dataclass(frozen=True)
class VideoFile:
    camera: str
    segment: int
    start_utc: str
    end_utc: str
    sha256: str
    bytes: int
    path: str  # relative to the attempt's cache folder


@dataclass
class Evidence:
    course: str
    attempt: int
    state: str
    journal: list[str] = field(default_factory=list)  # the journal's lines, in seq order
    video: list[VideoFile] = field(default_factory=list)
    video_gaps: list[dict] = field(default_factory=list)
    video_gone: list[dict] = field(default_factory=list)  # sealed segments the course deleted by retention
    problems: list[str] = field(default_factory=list)
    folder: Path | None = None  # where the files are (None when nothing may be shown)
    from_cache: bool = False

    @property
    def shown(self) -> bool:
        return self.state in SHOWN

    @property
    def msgid(self) -> str:
        return STATE_TEXT[self.state]


class CourseClient:
    """A signed-in conversation with one course's web process (cookies kept; CSRF token read from the form)."""

    def __init__(self, link: CourseLink, timeout: float) -> None:
        self.link, self.timeout = link, timeout
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self._signed_in = False

    def _open(self, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            return self._opener.open(urllib.request.Request(self.link.url + path, data=body), timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            raise CourseRefused(f"{self.link.code}: {path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
            raise CourseOffline(f"{self.link.code}: {getattr(exc, 'reason', exc)}") from None

    def sign_in(self) -> None:
        if self._signed_in:
            return
        with self._open("/login") as answer:
            page = answer.read().decode("utf-8", "replace")
        form = {"username": self.link.username, "password": self.link.password}
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        if token:
            form["csrf_token"] = token.group(1)
        with self._open("/login", form) as answer:
            answer.read()
            if urllib.parse.urlparse(answer.geturl()).path == "/login":
                raise CourseRefused(f"{self.link.code}: sign-in refused for {self.link.username}")
        self._signed_in = True

    def json(self, path: str):
        self.sign_in()
        with self._open(path) as answer:
            try:
                return json.loads(answer.read())
            except json.JSONDecodeError:
                raise CourseRefused(f"{self.link.code}: {path}: not JSON") from None

    def read(self, path: str) -> bytes:
        """The whole answer at ``path`` (a small one: a camera's picture)."""
        self.sign_in()
        with self._open(path) as answer:
            try:
                return answer.read()
            except (socket.timeout, ConnectionError, OSError) as exc:
                raise CourseOffline(f"{self.link.code}: {path}: {exc}") from None

    def download(self, path: str, target: Path, expected_sha256: str | None = None) -> tuple[str, int]:
        """The file at ``path`` into ``target`` (written whole or not at all); its SHA-256 and size.

        ``expected_sha256``: the sealed digest; a file with another is deleted as it arrived and
        ``target`` is left as it was (the caller names the refusal)."""
        self.sign_in()
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        digest, size = hashlib.sha256(), 0
        with self._open(path) as answer, open(partial, "wb") as out:
            try:
                while chunk := answer.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            except (socket.timeout, ConnectionError, OSError) as exc:
                partial.unlink(missing_ok=True)
                raise CourseOffline(f"{self.link.code}: {path}: {exc}") from None
        if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
            partial.unlink(missing_ok=True)  # never cached, so never shown
            return digest.hexdigest(), size
        partial.replace(target)
        return digest.hexdigest(), size


def _statement_segments(statement: EvidenceSeal | None) -> list[SealedSegment] | None:
    """The segments an evidence seal names (None: the attempt has none; [] if unreadable: verify says why)."""
    if statement is None:
        return None
    try:
        return sealed_segments(json.loads(statement.payload))
    except (json.JSONDecodeError, TypeError, ValueError, AttributeError):
        return []


def _sealed_time(text: str) -> str:
    """A sealed UTC time (``…Z``) as the manifest's ISO form."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()



def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat()


def coverage_gaps(video: list[VideoFile], start: datetime, end: datetime) -> list[dict]:
    """Per camera, the stretches of [start, end] no segment covers (seconds, with their bounds); with no
    video at all, the whole attempt (camera "")."""
    gaps = []
    for camera in sorted({v.camera for v in video}):
        cursor = as_utc(start)
        for v in sorted((v for v in video if v.camera == camera), key=lambda v: v.start_utc):
            begins, ends = datetime.fromisoformat(v.start_utc), datetime.fromisoformat(v.end_utc)
            if begins > cursor:
                gaps.append({"camera": camera, "from": cursor.isoformat(), "to": min(begins, as_utc(end)).isoformat(),
                             "seconds": round((min(begins, as_utc(end)) - cursor).total_seconds(), 3)})
            cursor = max(cursor, ends)
            if cursor >= as_utc(end):
                break
        if cursor < as_utc(end):
            gaps.append({"camera": camera, "from": cursor.isoformat(), "to": as_utc(end).isoformat(),
                         "seconds": round((as_utc(end) - cursor).total_seconds(), 3)})
    if not video and as_utc(end) > as_utc(start):  # no camera at all: the whole attempt is uncovered
        gaps.append({"camera": "", "from": as_utc(start).isoformat(), "to": as_utc(end).isoformat(),
                     "seconds": round((as_utc(end) - as_utc(start)).total_seconds(), 3)})
    return [g for g in gaps if g["seconds"] > 0]


def cached_manifests(cache_dir: Path) -> list[dict]:
    """Every attempt's manifest in the evidence cache."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(cache_dir).glob(f"*/*/{MANIFEST}"))]


class EvidenceFetcher:
    """Fetches, caches and checks attempts' evidence for the city (one per city service)."""

    def __init__(self, sessions: sessionmaker[Session], cache_dir: Path, links: dict[str, CourseLink],
                 timeout: float, audit: AuditLog | None = None) -> None:
        self.sessions = sessions  # the city's (session_factory(engine, None))
        self.cache_dir = Path(cache_dir)
        self.links = links
        self.timeout = timeout
        self.audit = audit

    def folder(self, course: str, attempt: int) -> Path:
        return self.cache_dir / course / str(attempt)

    def fetch(self, course: str, attempt_id: int, actor: str = "city", refresh: bool = False,
              now: datetime | None = None) -> Evidence:
        """The attempt's checked evidence (see the module's docstring for the states); every look is audited.

        ``refresh``: fetch from the course even when the cache holds the files (and compare them
        with the first fetch's digests).
        """
        now = now or datetime.now(timezone.utc)
        evidence = self._fetch(course, attempt_id, refresh, now)
        if self.audit is not None:
            self.audit.record(now, actor, "city", "city_fetch_evidence", f"{course}/{attempt_id}",
                              f"{evidence.state}; {len(evidence.video)} video file(s)"
                              + ("; from the cache" if evidence.from_cache else ""))
        return evidence

    def _fetch(self, course: str, attempt_id: int, refresh: bool, now: datetime) -> Evidence:
        evidence = Evidence(course, attempt_id, UNSEALED)
        with self.sessions() as session:
            attempt = session.get(Attempt, (course, attempt_id))
            if attempt is None:
                raise LookupError(f"no attempt {course}/{attempt_id} at the city")
            seal = session.get(Seal, (course, attempt_id))
            evidence.journal = list(session.scalars(
                select(JournalEntry.line).where(JournalEntry.course_key == course, JournalEntry.attempt_id == attempt_id)
                .order_by(JournalEntry.seq)))
            span = (attempt.started_utc or attempt.checked_in_utc, attempt.ended_utc or attempt.checked_in_utc)
            checked_in = attempt.checked_in_utc
            sealed_video = self._sealed_video(seal)
            statement = session.get(EvidenceSeal, (course, attempt_id))
            sealed_segments_ = _statement_segments(statement)
        if seal is None:
            evidence.problems.append("the attempt has no seal")
            return evidence
        # The records, and the evidence seal's signature, link to the seal and chain.
        report = verify(self.sessions, attempts=[attempt_id], course=course)
        evidence.problems += [str(p) for p in report.problems]
        folder = self.folder(course, attempt_id)
        manifest = self._manifest(folder)
        if sealed_segments_ is not None:
            gone = {g.file: g for g in report.video_gone}  # signed releases at the city name them
            return self._fetch_sealed(evidence, sealed_segments_, gone, folder, manifest, refresh, span, checked_in,
                                      now)
        if manifest is not None and not refresh and self._cache_intact(folder, manifest):
            evidence.video = [VideoFile(**v) for v in manifest["video"]]
            evidence.from_cache = True
        else:
            def download(client: CourseClient) -> None:
                evidence.video = self._download(client, attempt_id, folder)

            if not self._from_course(evidence, download):
                return evidence
            if manifest is not None:  # pinned at the first fetch: the course must serve the same bytes
                pinned = {(v["camera"], v["segment"]): v["sha256"] for v in manifest["video"]}
                for v in evidence.video:
                    if (v.camera, v.segment) in pinned and pinned[(v.camera, v.segment)] != v.sha256:
                        evidence.problems.append(f"video {v.camera} segment {v.segment}: the course now serves other "
                                                 "bytes than at the first fetch")
        fetched = {v.sha256 for v in evidence.video}
        if sealed_video:
            for missing in sorted(set(sealed_video) - fetched):
                evidence.problems.append(f"sealed video {sealed_video[missing]} (sha256 {missing[:16]}…) was not served")
            for extra in sorted(fetched - set(sealed_video)):
                evidence.problems.append(f"served video sha256 {extra[:16]}… is not in the seal")
        evidence.video_gaps = coverage_gaps(evidence.video, *span)
        if evidence.problems:
            evidence.state = MISMATCH
        else:
            evidence.state = VERIFIED if sealed_video else VIDEO_UNSEALED
            evidence.folder = folder
        if not evidence.from_cache and evidence.state in SHOWN:
            self._write_manifest(folder, evidence, checked_in, manifest, now)
        return evidence

    def _fetch_sealed(self, evidence: Evidence, sealed: list[SealedSegment], gone: dict, folder: Path,
                      manifest: dict | None, refresh: bool, span: tuple, checked_in: datetime,
                      now: datetime) -> Evidence:
        """Evidence whose video the course sealed: exactly the sealed segments still at the course,
        each checked against its sealed size and digest before it is cached or shown."""
        wanted = {(s.camera, s.segment): s for s in sealed if s.sha256 is not None and s.file not in gone}
        # No wanted segment: the statement names no video (no camera filed any of it), nothing to fetch.
        if wanted and manifest is not None and not refresh and self._cache_matches(folder, manifest, wanted):
            evidence.video = [VideoFile(**v) for v in manifest["video"]]
            evidence.from_cache = True
        elif wanted and not self._from_course(
                evidence, lambda client: self._download_sealed(client, evidence, wanted, folder)):
            return evidence
        # Deleted at the course by its signed release, and not kept in the city's cache from before.
        kept = {(v.camera, v.segment) for v in evidence.video}
        evidence.video_gone = [{"camera": s.camera, "segment": s.segment, "file": s.file,
                                "deleted_utc": gone[s.file].deleted_utc.isoformat()}
                               for s in sealed if s.file in gone and (s.camera, s.segment) not in kept]
        evidence.video_gaps = coverage_gaps(evidence.video, *span)
        if evidence.problems:
            evidence.state = MISMATCH
            return evidence
        evidence.state = VERIFIED
        evidence.folder = folder
        if not evidence.from_cache:
            self._write_manifest(folder, evidence, checked_in, manifest, now)
        return evidence

    def _from_course(self, evidence: Evidence, download: Callable[[CourseClient], None]) -> bool:
        """Run ``download`` against the evidence's course. False when it could not: the state says
        why (no link to the course, offline, refused), the reason is among the problems, and nothing
        of a partial download is kept."""
        link = self.links.get(evidence.course)
        if link is None:
            evidence.state = NO_COURSE_LINK
            return False
        try:
            download(CourseClient(link, self.timeout))
        except (CourseOffline, CourseRefused) as exc:
            evidence.state = OFFLINE if isinstance(exc, CourseOffline) else MISMATCH
            evidence.problems.append(str(exc))
            evidence.video = []
            return False
        return True

    def _download_sealed(self, client: CourseClient, evidence: Evidence, wanted: dict, folder: Path) -> None:
        listing = client.json(f"/attempts/{evidence.attempt}/video.json")
        served = {int(segment["id"]) for camera in listing.get("cameras", []) for segment in camera.get("segments", [])}
        for (camera, number), s in sorted(wanted.items(), key=lambda kv: (kv[0][0], kv[1].start_utc)):
            if not re.fullmatch(r"[\w.-]+", camera):
                raise CourseRefused(f"{client.link.code}: camera name {camera!r} is not a plain name")
            if number not in served:
                evidence.problems.append(f"video {camera} {s.file}: sealed, but the course does not serve it "
                                         "(and no evidence release deleted it)")
                continue
            relative = f"video/{camera}/{number}.mp4"
            try:
                sha, size = client.download(f"/attempts/{evidence.attempt}/video/{number}.mp4", folder / relative,
                                            expected_sha256=s.sha256)
            except CourseRefused as exc:  # listed, but its file not served (gone from the course's disk)
                evidence.problems.append(f"video {camera} {s.file}: sealed, but the course does not serve it ({exc})")
                continue
            if sha != s.sha256:
                evidence.problems.append(
                    f"video {camera} {s.file}: the course served {size} bytes with SHA-256 {sha[:16]}…, not the "
                    f"sealed {s.bytes} bytes with {s.sha256[:16]}…: refused, not cached and not shown")
                continue
            evidence.video.append(VideoFile(camera, number, _sealed_time(s.start_utc), _sealed_time(s.end_utc),
                                            sha, size, relative))

    @staticmethod
    def _cache_matches(folder: Path, manifest: dict, wanted: dict) -> bool:
        """The cached files are the sealed ones still at the course, each with its sealed digest."""
        cached = {(v["camera"], v["segment"]): v["sha256"] for v in manifest.get("video", [])}
        if not set(wanted) <= set(cached):
            return False
        return (all(cached[k] == wanted[k].sha256 for k in cached if k in wanted)
                and EvidenceFetcher._cache_intact(folder, manifest))

    @staticmethod
    def _sealed_video(seal: Seal | None) -> dict[str, str]:
        if seal is None:
            return {}
        try:
            record = json.loads(seal.payload).get("record", {})
        except (json.JSONDecodeError, AttributeError):
            return {}  # verify names the broken payload
        return {e["sha256"]: f"{e.get('camera', '?')} {e.get('start_utc', '')}".strip()
                for e in record.get("evidence", []) if isinstance(e, dict) and e.get("kind") == "video_segment"}

    def _download(self, client: CourseClient, attempt_id: int, folder: Path) -> list[VideoFile]:
        listing = client.json(f"/attempts/{attempt_id}/video.json")
        files = []
        for camera in listing.get("cameras", []):
            name = str(camera.get("camera", ""))
            if not re.fullmatch(r"[\w.-]+", name):
                raise CourseRefused(f"{client.link.code}: camera name {name!r} is not a plain name")
            for segment in camera.get("segments", []):
                relative = f"video/{name}/{int(segment['id'])}.mp4"
                # The segment's route is built here, not taken from the listing: never another host,
                # never another page of the course, and a course behind a path prefix works too.
                sha, size = client.download(f"/attempts/{attempt_id}/video/{int(segment['id'])}.mp4",
                                            folder / relative)
                files.append(VideoFile(name, int(segment["id"]),
                                       datetime.fromtimestamp(segment["start"], timezone.utc).isoformat(),
                                       datetime.fromtimestamp(segment["end"], timezone.utc).isoformat(),
                                       sha, size, relative))
        return files

    @staticmethod
    def _manifest(folder: Path) -> dict | None:
        path = folder / MANIFEST
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    @staticmethod
    def _cache_intact(folder: Path, manifest: dict) -> bool:
        return all((folder / v["path"]).is_file() and sha256_file(folder / v["path"]) == v["sha256"]
                   for v in manifest["video"])

    @staticmethod
    def _write_manifest(folder: Path, evidence: Evidence, checked_in: datetime, earlier: dict | None,
                        now: datetime) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        data = {"course": evidence.course, "attempt": evidence.attempt, "checked_in_utc": _iso(checked_in),
                "state": evidence.state, "video": [v.__dict__ for v in evidence.video],
                "video_gaps": evidence.video_gaps, "video_gone": evidence.video_gone,
                "first_fetched_utc": (earlier or {}).get("first_fetched_utc") or _iso(now)}
        partial = folder / (MANIFEST + ".part")
        partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        partial.replace(folder / MANIFEST)
