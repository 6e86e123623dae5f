"""The names people read for cameras: the site file's titles, renamed by an administrator.

A camera's id (``car-V2``) is for configuration, logs and tooltips; pages, exports
and the candidate's clips show its name (``V2 车内``). The site file's ``title``
names a camera the first time the controller starts with it; an administrator's
name replaces it and is never overwritten by the file again.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom.records.models import CameraName

SITE = "site"  # named_by for a name taken from the site file
MAX_LENGTH = 32


class CameraNameError(ValueError):
    """A name that cannot be used (the message says why, in Chinese)."""


class CameraNames:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def all(self) -> dict[str, str]:
        with self._sessions() as session:
            return {row.camera: row.title for row in session.scalars(select(CameraName))}

    def title(self, camera: str) -> str:
        """The camera's name, or its id when nobody named it."""
        return self.all().get(camera, camera)

    def rename(self, camera: str, title: str, by: str, utc: datetime | None = None) -> str:
        title = " ".join((title or "").split())
        if not title:
            raise CameraNameError("名称不能为空")
        if len(title) > MAX_LENGTH:
            raise CameraNameError(f"名称最多{MAX_LENGTH}个字")
        with self._sessions.begin() as session:
            row = session.get(CameraName, camera)
            if row is None:
                row = CameraName(camera=camera)
                session.add(row)
            row.title, row.named_by, row.named_utc = title, by, utc or datetime.now(timezone.utc)
        return title

    def seed(self, titles: dict[str, str], utc: datetime | None = None) -> None:
        """Name cameras from the site file where nobody has named them (an administrator's name stays)."""
        with self._sessions.begin() as session:
            for camera, title in titles.items():
                if title and session.get(CameraName, camera) is None:
                    session.add(CameraName(camera=camera, title=title[:MAX_LENGTH], named_by=SITE,
                                           named_utc=utc or datetime.now(timezone.utc)))
