"""Access to the examroom services registered on the app."""

from flask import current_app

from examroom.live.feed import LiveFeed
from examroom.records.attempt_log import Records


def records() -> Records:
    return current_app.extensions["examroom.records.attempt_log"]


def feed() -> LiveFeed:
    return current_app.extensions["examroom.feed"]
