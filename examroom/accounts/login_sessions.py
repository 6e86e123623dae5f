"""Signed-in browsers kept on the server, so that signing out really ends a session.

The browser's cookie carries a random token; the database keeps only its SHA-256. A session is
valid while its row exists and is younger than the lifetime: signing out deletes the row, and a
changed password or a disabled account deletes all of that person's rows
(:meth:`examroom.accounts.users.Accounts.set_password`, :meth:`~examroom.accounts.users.Accounts.disable`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from examroom.records.models import LoginSession

LIFETIME = timedelta(hours=12)  # a working day at the course; then sign in again


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginSessions:
    def __init__(self, sessions: sessionmaker[Session], lifetime: timedelta = LIFETIME) -> None:
        self._sessions = sessions
        self._lifetime = lifetime

    def open(self, user_id: int, now: datetime, address: str = "") -> str:
        """A new session for the user; returns the token the browser keeps."""
        token = secrets.token_urlsafe(32)
        with self._sessions.begin() as session:
            session.add(LoginSession(token_hash=_hash(token), user_id=user_id, created_utc=now, address=address[:64]))
        return token

    def user_of(self, token: str, now: datetime) -> int | None:
        """The user whose live session this token is, or None (unknown, ended or expired)."""
        with self._sessions() as session:
            row = session.get(LoginSession, _hash(token))
            if row is None:
                return None
            created = row.created_utc if row.created_utc.tzinfo else row.created_utc.replace(tzinfo=timezone.utc)
            return row.user_id if now - created < self._lifetime else None

    def end(self, token: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(LoginSession).where(LoginSession.token_hash == _hash(token)))

    def end_all(self, user_id: int) -> int:
        """End every session of the user; returns how many there were."""
        with self._sessions.begin() as session:
            return session.execute(delete(LoginSession).where(LoginSession.user_id == user_id)).rowcount

    def count(self, user_id: int) -> int:
        with self._sessions() as session:
            return len(session.scalars(select(LoginSession.token_hash).where(LoginSession.user_id == user_id)).all())
