"""Failed sign-ins slow down the next try, per address and per typed name, without locking anyone out.

Each failure is counted under the browser's address and under the name typed (whether or not such
an account exists, so the answer reveals nothing). Past a few free failures every further one makes
the next try wait longer (doubling), up to a ceiling. The name's ceiling is short: a stranger who
guesses at someone's name can delay that person by a minute at most, never lock them out; the
address's ceiling is long, because it is the guesser's own. A success clears both counts; failures
older than the window are forgotten; an administrator can see every throttle and lift it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from examroom.records.models import SignInThrottle


@dataclass(frozen=True)
class Pace:
    """``free`` failures cost nothing; the next waits ``first``, each after it twice as long, up to ``ceiling``."""

    free: int
    first: timedelta
    ceiling: timedelta


ADDRESS_PACE = Pace(free=5, first=timedelta(seconds=2), ceiling=timedelta(minutes=15))
NAME_PACE = Pace(free=10, first=timedelta(seconds=2), ceiling=timedelta(minutes=1))
WINDOW = timedelta(hours=1)  # failures older than this start the count again


@dataclass(frozen=True)
class Throttle:
    key: str
    failures: int
    last_failure_utc: datetime
    blocked_until: datetime | None

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def subject(self) -> str:
        return self.key.split(":", 1)[1]


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def address_key(address: str) -> str:
    return f"address:{address}"[:160]


def name_key(name: str) -> str:
    return f"name:{name.strip().casefold()}"[:160]


def delay_after(failures: int, pace: Pace) -> timedelta:
    """The wait after the given number of failures in a row."""
    over = failures - pace.free
    if over <= 0:
        return timedelta(0)
    return min(pace.ceiling, pace.first * 2 ** min(over - 1, 30))


class SignInThrottles:
    def __init__(self, sessions: sessionmaker[Session], address_pace: Pace = ADDRESS_PACE,
                 name_pace: Pace = NAME_PACE) -> None:
        self._sessions = sessions
        self._paces = {"address": address_pace, "name": name_pace}

    def wait(self, address: str, name: str, now: datetime) -> int:
        """Whole seconds before this address may try this name again (0: it may try now)."""
        keys = [address_key(address), name_key(name)]
        with self._sessions() as session:
            rows = session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(keys))).all()
        remaining = [(_aware(r.blocked_until) - now).total_seconds() for r in rows if r.blocked_until is not None]
        return max([math.ceil(s) for s in remaining if s > 0], default=0)

    def failed(self, address: str, name: str, now: datetime) -> None:
        with self._sessions.begin() as session:
            for key, pace in ((address_key(address), self._paces["address"]), (name_key(name), self._paces["name"])):
                row = session.get(SignInThrottle, key)
                if row is None:
                    row = SignInThrottle(key=key, failures=0, last_failure_utc=now)
                    session.add(row)
                elif now - _aware(row.last_failure_utc) > WINDOW:
                    row.failures = 0
                row.failures += 1
                row.last_failure_utc = now
                delay = delay_after(row.failures, pace)
                row.blocked_until = now + delay if delay else None

    def succeeded(self, address: str, name: str) -> None:
        self.lift(address_key(address), name_key(name))

    def lift(self, *keys: str) -> int:
        """Forget these throttles (an administrator's decision); returns how many there were."""
        with self._sessions.begin() as session:
            return session.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(keys))).rowcount

    def current(self, now: datetime) -> list[Throttle]:
        """Throttles within the window, the most recent failure first."""
        with self._sessions() as session:
            rows = session.scalars(select(SignInThrottle).order_by(SignInThrottle.last_failure_utc.desc())).all()
            found = [Throttle(r.key, r.failures, _aware(r.last_failure_utc), _aware(r.blocked_until)) for r in rows]
        return [t for t in found if now - t.last_failure_utc <= WINDOW]
