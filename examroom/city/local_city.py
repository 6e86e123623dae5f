"""A city and its courses on this machine: one PostgreSQL cluster each in a data folder, every
course's link to the city through a relay that can be cut (``examroom demo --city N``).

``LocalCity.start(folder, ["4201001", "4201002", "4201003"])`` makes (or, on a later run,
opens) ``folder/city`` and ``folder/course-<code>``, migrates and publishes each course, prepares
the city and subscribes it to each course through its own ``TcpRelay``. ``course_url(code)`` is
where a simulated course keeps its records, ``cut(code)`` / ``restore(code)`` take its link
down and up (a key press in the demo), ``links()`` is what the city shows, ``stop()`` stops the
relays and the servers. Clusters made here do not fsync: a demo's records may be lost with the
machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from examroom.city import replication
from examroom.city.clusters import Cluster, find_binaries
from examroom.city.relay import TcpRelay
from examroom.city.watch import DEFAULT_WARN_BYTES, CourseLink, LinkWatch, course_engine
from examroom.records.database import make_engine


@dataclass
class LocalCity:
    folder: Path
    city: Cluster
    courses: dict[str, Cluster]
    relays: dict[str, TcpRelay]
    city_db: Engine
    watch: LinkWatch
    _engines: list[Engine] = field(default_factory=list)

    @classmethod
    def start(cls, folder: Path, codes: list[str], warn_bytes: int = DEFAULT_WARN_BYTES) -> LocalCity:
        folder = Path(folder).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        binaries = find_binaries()
        started: list[Cluster] = []
        relays: dict[str, TcpRelay] = {}
        engines: list[Engine] = []
        try:
            city = _cluster(folder / "city", binaries)
            started.append(city)
            city_db = make_engine(city.create_database())
            engines.append(city_db)
            replication.prepare_city(city_db)  # a second run finds it prepared and changes nothing
            courses, watched = {}, {}
            for code in codes:
                course = _cluster(folder / f"course-{code}", binaries)
                started.append(course)
                courses[code] = course
                course_db = make_engine(course.create_database())
                engines.append(course_db)
                replication.prepare_course(course_db, code)
                relays[code] = relay = TcpRelay(("127.0.0.1", course.port)).start()
                conninfo = course.conninfo(port=relay.port)
                if code.lower() in replication.subscribed_courses(city_db):
                    replication.reconnect(city_db, code, conninfo)  # a new relay port on every start
                else:
                    replication.subscribe(city_db, code, conninfo)
                watched[code] = course_engine(course.url())
                engines.append(watched[code])
        except BaseException:
            for relay in relays.values():
                relay.close()
            for engine in engines:
                engine.dispose()
            for cluster in reversed(started):
                cluster.stop()
            raise
        return cls(folder=folder, city=city, courses=courses, relays=relays, city_db=city_db,
                   watch=LinkWatch(city_db, watched, warn_bytes=warn_bytes, state_file=folder / "links.json"),
                   _engines=engines)

    def course_url(self, code: str) -> str:
        return self.courses[code].url()

    @property
    def city_url(self) -> str:
        return self.city.url()

    def cut(self, code: str) -> None:
        self.relays[code].cut()

    def restore(self, code: str) -> None:
        self.relays[code].restore()

    def links(self) -> list[CourseLink]:
        return self.watch.sample()

    def stop(self) -> None:
        for relay in self.relays.values():
            relay.close()
        for engine in self._engines:
            engine.dispose()
        for cluster in [*self.courses.values(), self.city]:
            cluster.stop()

    def __enter__(self) -> LocalCity:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def _cluster(folder: Path, binaries: Path) -> Cluster:
    if (folder / "cluster.json").is_file():
        return Cluster.open(folder).start()
    return Cluster.make(folder, durable=False, binaries=binaries).start()
