"""Accounts of the people who sign in, with argon2 hashes.

No account is ever locked by failures: anyone could lock anyone out by guessing. Failed
sign-ins slow down the next try instead, per address and per name
(:mod:`examroom.accounts.signin_throttle`). A changed password or a disabled account ends every session
of that person (:mod:`examroom.accounts.login_sessions`).

Roles: ``admin`` (users, audit log), ``supervisor`` (runs the course),
``auditor`` (reviews records, limited by ``scope`` to a course, or to a city's courses: their
names separated by commas), ``inspector`` (the city's 网上巡查: signs in to the city console only,
limited by ``scope`` like an auditor, to chosen courses' codes; an empty scope is the whole city).
Candidates have no account: they look up their own results with what their
booking already proves (see :meth:`examroom.records.attempt_log.Records.find_candidate`).
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom.accounts.login_sessions import LoginSessions
from examroom.records.models import User

MIN_PASSWORD_LENGTH = 10
# argon2id parameters; empty: argon2-cffi's defaults (RFC 9106's low-memory profile, about
# 0.14 s of a core here). Only the tests lower them (tests/conftest.py): they sign in hundreds
# of times. A hash records its own parameters, so it verifies under any setting.
HASH_PARAMETERS: dict[str, int] = {}


class Role(str, enum.Enum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    INSPECTOR = "inspector"  # the city console's (网上巡查); no course page admits this role


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message says why."""


class LoginRefused(Exception):
    """Wrong name or password, or a disabled account: one answer for all, so none can be told apart."""

    def __init__(self) -> None:
        super().__init__("login refused")


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: Role
    scope: str

    @property
    def courses(self) -> tuple[str, ...] | None:
        """The courses an auditor or inspector may see (None: every course; other roles are not limited)."""
        if self.role not in (Role.AUDITOR, Role.INSPECTOR):
            return None
        names = tuple(name.strip() for name in re.split(r"[,，;；]", self.scope) if name.strip())
        return names or None


def _account(user: User) -> Account:
    return Account(user.id, user.username, user.display_name, Role(user.role), user.scope)


@functools.lru_cache(maxsize=None)
def _hasher_and_decoy(parameters: tuple[tuple[str, int], ...]) -> tuple[PasswordHasher, str]:
    """The hasher, and the decoy hash that an unknown name is verified against: that keeps the
    answer's timing the same, so a wrong name cannot be told from a wrong password. Made once
    per process (every web app and command makes an :class:`Accounts`)."""
    hasher = PasswordHasher(**dict(parameters))
    return hasher, hasher.hash("examroom-decoy-password")


class Accounts:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._hasher, self._decoy = _hasher_and_decoy(tuple(sorted(HASH_PARAMETERS.items())))

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
        """The account, if the name and password match an active one; else :class:`LoginRefused`."""
        with self._sessions.begin() as session:
            user = session.scalar(select(User).where(User.username == username.strip()))
            if user is None or not user.active:
                self._verify(self._decoy, password)
                raise LoginRefused()
            if not self._verify(user.password_hash, password):
                raise LoginRefused()
            if self._hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self._hasher.hash(password)
            return _account(user)

    def set_password(self, username: str, password: str) -> int:
        """A new password; every session of the account ends. Returns how many sessions ended."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
        with self._sessions.begin() as session:
            user = self._user(session, username)
            user.password_hash = self._hasher.hash(password)
            user_id = user.id
        return LoginSessions(self._sessions).end_all(user_id)

    def disable(self, username: str) -> int:
        """The account can no longer sign in; every session of it ends. Returns how many sessions ended."""
        with self._sessions.begin() as session:
            user = self._user(session, username)
            user.active = False
            user_id = user.id
        return LoginSessions(self._sessions).end_all(user_id)

    def enable(self, username: str) -> None:
        with self._sessions.begin() as session:
            self._user(session, username).active = True

    @staticmethod
    def _user(session: Session, username: str) -> User:
        user = session.scalar(select(User).where(User.username == username.strip()))
        if user is None:
            raise AccountError(f"username: no account {username!r}")
        return user

    def active(self, role: Role | None = None) -> list[Account]:
        """The accounts that may sign in (of one role, when given), by username."""
        with self._sessions() as session:
            query = select(User).where(User.active.is_(True)).order_by(User.username)
            if role is not None:
                query = query.where(User.role == Role(role).value)
            return [_account(user) for user in session.scalars(query)]

    def get(self, user_id: int) -> Account | None:
        with self._sessions() as session:
            user = session.get(User, user_id)
            return _account(user) if user is not None and user.active else None

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

