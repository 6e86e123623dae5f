"""Access to the examroom services registered on the app."""

from flask import current_app

from examroom.livefeed import LiveFeed
from examroom.records import Records


def records() -> Records:
    return current_app.extensions["examroom.records"]


def feed() -> LiveFeed:
    return current_app.extensions["examroom.feed"]
