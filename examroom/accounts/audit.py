"""The audit log: every supervisor, auditor and administrator action, append-only.

The database refuses updates and deletes (triggers in the migration), and each
entry carries the hash of the previous one, so a row removed by going around
the database shows as a broken chain in :meth:`AuditLog.verify`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom.records.models import AuditEntry
from scoring.observations import utc_text

GENESIS = "0" * 64


def _digest(prev_hash: str, utc: datetime, actor: str, role: str, action: str, target: str, detail: str,
            address: str) -> str:
    body = json.dumps([prev_hash, utc_text(utc), actor, role, action, target, detail, address],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class AuditLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()  # one writer at a time keeps the chain linear in one process

    def record(self, utc: datetime, actor: str, role: str, action: str, target: str = "", detail: str = "",
               address: str = "") -> None:
        with self._lock, self._sessions.begin() as session:
            last = session.scalar(select(AuditEntry.hash).where(_of_course(session))
                                  .order_by(AuditEntry.id.desc()).limit(1))
            prev = last or GENESIS
            session.add(AuditEntry(utc=utc, actor=actor, role=role, action=action, target=target, detail=detail,
                                   address=address, prev_hash=prev,
                                   hash=_digest(prev, utc, actor, role, action, target, detail, address)))

    def entries(self, limit: int = 200) -> list[AuditEntry]:
        with self._sessions() as session:
            return list(session.scalars(select(AuditEntry).where(_of_course(session))
                                        .order_by(AuditEntry.id.desc()).limit(limit)))

    def verify(self) -> list[str]:
        """Problems found in the chain (empty when intact)."""
        problems, prev = [], GENESIS
        with self._sessions() as session:
            for e in session.scalars(select(AuditEntry).where(_of_course(session)).order_by(AuditEntry.id)):
                utc = e.utc if e.utc.tzinfo else e.utc.replace(tzinfo=timezone.utc)
                if e.prev_hash != prev:
                    problems.append(f"entry {e.id}: previous entry missing or changed")
                if e.hash != _digest(e.prev_hash, utc, e.actor, e.role, e.action, e.target, e.detail, e.address):
                    problems.append(f"entry {e.id}: content changed")
                prev = e.hash
        return problems


def _of_course(session: Session):
    """The session's course's entries: each course's log is its own chain (the city holds several)."""
    return AuditEntry.course_key == session.info.get("course_code")
