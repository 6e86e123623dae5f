"""Auditors' review marks on attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom.records.models import Attempt, Review


class Reviews:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def mark(self, attempt_id: int, reviewer: str, comment: str, utc: datetime) -> None:
        with self._sessions.begin() as session:
            if session.get(Attempt, attempt_id) is None:
                raise ValueError(f"unknown attempt {attempt_id}")
            session.add(Review(attempt_id=attempt_id, reviewer=reviewer, comment=comment.strip(), utc=utc))

    def of(self, attempt_id: int) -> list[Review]:
        with self._sessions() as session:
            return list(session.scalars(select(Review).where(Review.attempt_id == attempt_id).order_by(Review.id)))
