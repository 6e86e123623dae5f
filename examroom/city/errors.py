"""The one error type of the city room: a Chinese msgid a person can act on."""

from __future__ import annotations

from examroom.messages import SupervisorError


class CityError(SupervisorError):
    """A cluster that cannot be made or started, a subscription that cannot be set up, ..."""
