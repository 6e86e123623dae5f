"""What several commands share: the shipped defaults and the ``--rules`` value."""

from __future__ import annotations

import argparse
from pathlib import Path

from scoring import config_files

DEFAULT_RULES = config_files.rule_set_file()
DEFAULT_COURSE = config_files.course_file()
RULES_HELP = "rule set: a TOML file or a shipped name (ga1026-2022, ga1026-2012)"


def rule_set(value: str) -> Path:
    """A ``--rules`` value: a rule set file, or the name of a shipped one (``ga1026-2012``)."""
    path = Path(value)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    shipped = config_files.rule_set_file(value)
    if shipped.is_file():
        return shipped
    names = ", ".join(config_files.shipped_rule_sets())
    raise argparse.ArgumentTypeError(f"{value!r} is neither a rule set file nor a shipped rule set ({names})")


def open_sessions(url: str, migrate: bool):
    """A session factory on the database at ``url``; ``migrate``: create or upgrade it first."""
    from examroom.records.database import make_engine, session_factory, upgrade

    engine = make_engine(url, existing=not migrate)  # a command that only reads never makes a new file
    if migrate:
        upgrade(engine)
    return session_factory(engine)
