"""What the city console reads: the links (``examroom.city.watch``) and each course's day from the
replicated records, seen through that course's view (``session_factory(city_engine, code)``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable

from flask import Flask, abort, current_app
from sqlalchemy import Engine, func, select, text

from examroom.city import attempt_classes
from examroom.city.watch import DEFAULT_WARN_BYTES, CourseLink, LinkWatch, course_engine
from examroom.city.watch_settings import CityWatchSettings
from examroom.courseclock import CHINA, as_utc
from examroom.records.attempt_log import utc_now
from examroom.records.database import session_factory
from examroom.records.models import Attempt, AttemptStatus, Sitting, SittingCheck

EXTENSION = "examroom.city.console"


@dataclass(frozen=True)
class CourseDay:
    """One course's row of the overview."""

    course: str
    link: CourseLink
    sittings: int
    attempts: int
    running: tuple[str, ...]  # the vehicles testing now
    faults: tuple[int, ...]  # today's attempts hit by a device fault
    overrides: int  # today's failed self-checks that exams started after


@dataclass
class CityConsole:
    """The city's database and settings, and the courses' databases as the city reaches them.

    ``course_urls``: course code -> URL of the course's database for the slot and lag figures
    (None or absent: the city's own view only). Each sample opens fresh connections with short
    timeouts (``watch.course_engine``), so a course whose link is down costs seconds, not minutes.
    ``now``: the clock (tests give their own).
    """

    city: Engine
    settings: CityWatchSettings
    course_urls: dict[str, str | None] = field(default_factory=dict)
    now: Callable[[], datetime] = utc_now
    warn_bytes: int = DEFAULT_WARN_BYTES  # WAL a course's slot may hold for the city before the page warns
    _engines: dict[str, Engine | None] = field(default_factory=dict)
    _cameras: "CourseCameras | None" = None
    _watch: LinkWatch | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cameras(self) -> "CourseCameras":
        if self._cameras is None:
            self._cameras = CourseCameras(self.settings.evidence.courses, self.settings.evidence.timeout_seconds)
        return self._cameras

    def courses(self) -> list[str]:
        """Every course the city holds records of or has a link to."""
        with self.city.connect() as connection:
            found = set(connection.execute(text(
                "SELECT course_key FROM sittings UNION SELECT course_key FROM attempts "
                "UNION SELECT course_key FROM vehicles")).scalars())
        return sorted((found | set(self.course_urls)) - {"", self.settings.city_code})

    def links(self, courses: list[str]) -> dict[str, CourseLink]:
        """The links of these courses (one sample at a time: LinkWatch remembers last contacts)."""
        with self._lock:
            for course in courses:
                if course not in self._engines:
                    url = self.course_urls.get(course)
                    self._engines[course] = course_engine(url) if url else None
            if self._watch is None:
                self._watch = LinkWatch(self.city, {}, warn_bytes=self.warn_bytes)
            self._watch.courses = {course: self._engines[course] for course in courses}
            return {link.course: link for link in self._watch.sample()}

    def day(self, course: str, day: date, link: CourseLink) -> CourseDay:
        start, end = as_utc(attempt_classes.day_start(day)), as_utc(attempt_classes.day_start(day + timedelta(days=1)))
        with session_factory(self.city, course)() as session:
            sittings = session.scalar(select(func.count()).select_from(Sitting).where(
                Sitting.starts_utc >= start, Sitting.starts_utc < end)) or 0
            today = list(session.scalars(select(Attempt.id).where(
                Attempt.checked_in_utc >= start, Attempt.checked_in_utc < end)))
            running = tuple(sorted(set(session.scalars(select(Attempt.vehicle_id).where(
                Attempt.status == AttemptStatus.RUNNING.value)))))
            faults = tuple(sorted(attempt_classes.device_faults(session, course, today))) if today else ()
            overrides = session.scalar(select(func.count()).select_from(SittingCheck).where(
                SittingCheck.override_utc >= start, SittingCheck.override_utc < end)) or 0
        return CourseDay(course, link, sittings, len(today), running, faults, overrides)

    def overview(self, visible: tuple[str, ...] | None) -> list[CourseDay]:
        courses = [c for c in self.courses() if visible is None or c in visible]
        links = self.links(courses)
        today = self.now().astimezone(CHINA).date()
        return [self.day(course, today, links[course]) for course in courses]


def attach(app: Flask, console: CityConsole) -> None:
    app.extensions[EXTENSION] = console


def city_app(database_url: str, settings: CityWatchSettings, course_urls: dict[str, str | None],
             config: dict) -> Flask:
    """The web app in city mode: the city's database, its accounts and audit chain (the city's
    code), no live feed and no controller link, the city console attached."""
    from examroom.records.attempt_log import Records
    from examroom.records.database import make_engine
    from examroom_web import create_app

    engine = make_engine(database_url)
    app = create_app(Records(session_factory(engine, settings.city_code)), None, config)
    attach(app, CityConsole(engine, settings, dict(course_urls)))
    return app


def parse_course_databases(values: list[str]) -> dict[str, str]:
    """``CODE=URL`` options: where the city reaches each course's database for its slot and lag."""
    found = {}
    for value in values:
        code, sep, url = value.partition("=")
        if not sep or not code.strip() or not url.strip():
            raise ValueError(f"--course-database {value!r}: expected CODE=URL, e.g. 4201001=postgresql://…")
        found[code.strip()] = url.strip()
    return found


def city_mode() -> bool:
    """Whether this web process is the city console (its menus are the city's)."""
    return EXTENSION in current_app.extensions


def console() -> CityConsole:
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        abort(404)  # a course's web process: no city here
    return found


class CourseCameras:
    """A course's live cameras as the city sees them: through the course's web process, signed in as
    the city's account there (``[evidence]`` links of the city file), one kept conversation a course
    with short timeouts; a conversation the course stopped honouring is opened again once."""

    def __init__(self, links: dict, timeout: float) -> None:
        self._links, self._timeout = links, timeout
        self._clients: dict = {}
        self._lock = threading.Lock()

    def configured(self, course: str) -> bool:
        return course in self._links

    def _ask(self, course: str, ask):
        from examroom.city.evidence import CourseClient, CourseRefused

        with self._lock:
            client = self._clients.get(course) or CourseClient(self._links[course], self._timeout)
            self._clients[course] = client
        try:
            return ask(client)
        except CourseRefused:
            with self._lock:
                self._clients[course] = client = CourseClient(self._links[course], self._timeout)
            return ask(client)  # a session that expired at the course: signed in again, asked once more

    def listed(self, course: str) -> dict:
        return self._ask(course, lambda client: client.json("/cameras.json"))

    def frame(self, course: str, camera: str) -> bytes:
        from urllib.parse import quote

        return self._ask(course, lambda client: client.read(f"/cameras/{quote(camera, safe='')}/live.jpg"))
