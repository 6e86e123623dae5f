"""Accounts of the people who sign in, with argon2 hashes and lockout.

Roles: ``admin`` (users, audit log), ``supervisor`` (runs the course),
``auditor`` (reviews records, limited by ``scope`` to a course, or to a city's courses: their
names separated by commas).
Candidates have no account: they look up their own results with what their
booking already proves (see :meth:`examroom.records.Records.find_candidate`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom.models import User

MIN_PASSWORD_LENGTH = 10


class Role(str, enum.Enum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message says why."""


class LoginRefused(Exception):
    """Wrong name or password, or a locked account. ``locked_until`` is set when locked."""

    def __init__(self, locked_until: datetime | None = None) -> None:
        super().__init__("login refused")
        self.locked_until = locked_until


@dataclass(frozen=True)
class LockoutPolicy:
    """After ``max_failures`` wrong passwords in a row the account is locked for ``lock_for``."""

    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: Role
    scope: str

    @property
    def courses(self) -> tuple[str, ...] | None:
        """The courses an auditor may see (None: every course; other roles are not limited)."""
        if self.role is not Role.AUDITOR:
            return None
        names = tuple(name.strip() for name in re.split(r"[,，;；]", self.scope) if name.strip())
        return names or None


def _account(user: User) -> Account:
    return Account(user.id, user.username, user.display_name, Role(user.role), user.scope)


class Accounts:
    def __init__(self, sessions: sessionmaker[Session], policy: LockoutPolicy = LockoutPolicy()) -> None:
        self._sessions = sessions
        self._policy = policy
        self._hasher = PasswordHasher()
        # Verifying against a real hash when the name is unknown keeps the answer's
        # timing the same, so a wrong name cannot be told from a wrong password.
        self._decoy = self._hasher.hash("examroom-decoy-password")

    def create(self, username: str, password: str, role: Role | str, display_name: str = "",
               scope: str = "") -> Account:
        username = username.strip()
        if not username:
            raise AccountError("username: must not be empty")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
        try:
            role = Role(role)
        except ValueError:
            raise AccountError(f"role: must be one of {', '.join(r.value for r in Role)}") from None
        with self._sessions.begin() as session:
            if session.scalar(select(User).where(User.username == username)) is not None:
                raise AccountError(f"username: {username!r} exists already")
            user = User(username=username, display_name=display_name or username, role=role.value, scope=scope,
                        password_hash=self._hasher.hash(password), active=True, failed_logins=0)
            session.add(user)
            session.flush()
            return _account(user)

    def authenticate(self, username: str, password: str, now: datetime) -> Account:
        refused: LoginRefused | None = None
        with self._sessions.begin() as session:
            user = session.scalar(select(User).where(User.username == username.strip()))
            if user is None or not user.active:
                self._verify(self._decoy, password)
                refused = LoginRefused()
            elif user.locked_until is not None and _aware(user.locked_until) > now:
                refused = LoginRefused(locked_until=_aware(user.locked_until))
            elif not self._verify(user.password_hash, password):
                # Counted in this transaction, which must commit: raising inside it would roll back.
                user.failed_logins += 1
                locked = None
                if user.failed_logins >= self._policy.max_failures:
                    locked = user.locked_until = now + self._policy.lock_for
                    user.failed_logins = 0
                refused = LoginRefused(locked_until=locked)
            else:
                user.failed_logins = 0
                user.locked_until = None
                if self._hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = self._hasher.hash(password)
                account = _account(user)
        if refused is not None:
            raise refused
        return account

    def get(self, user_id: int) -> Account | None:
        with self._sessions() as session:
            user = session.get(User, user_id)
            return _account(user) if user is not None and user.active else None

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for what was stored as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
