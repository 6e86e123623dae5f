"""Where the shipped configuration is: the folder ``config/`` (rules, courses, sites).

The folder stays at the top of the source tree, where it is edited; setup.cfg installs it as the
import package ``examroom_config`` (``package_dir``), so a wheel or an editable install finds it
with :mod:`importlib.resources` like any package data. Run from a source checkout that is not
installed itself (tests with ``PYTHONPATH``, a second worktree beside an installed one), the
checkout's own ``config/`` is used: the files beside the code that reads them.

Every path to a shipped rule set or course comes from here; nothing else locates ``config/``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

PACKAGE = "examroom_config"
DEFAULT_RULE_SET = "ga1026-2022"
DEMO_COURSE = "demo"


@cache
def config_dir() -> Path:
    """The folder holding ``rules/``, ``courses/`` and ``sites/``."""
    # files("scoring") is the scoring package's folder: in a checkout, its parent holds setup.cfg.
    checkout = Path(str(files("scoring"))).parent
    if (checkout / "setup.cfg").is_file() and (checkout / "config" / "rules").is_dir():
        return checkout / "config"
    return Path(str(files(PACKAGE)))  # installed: a folder in site-packages (wheels are unpacked)


def code_root() -> Path:
    """The folder that holds the packages (a checkout's root, or site-packages): what a child
    process started with ``python -m`` needs on its path to run this same code."""
    return Path(str(files("scoring"))).parent


def rules_dir() -> Path:
    return config_dir() / "rules"


def rule_set_file(name: str = DEFAULT_RULE_SET) -> Path:
    """A shipped rule set by name (``ga1026-2022``, ``ga1026-2012``)."""
    return rules_dir() / f"{name}.toml"


def shipped_rule_sets() -> list[str]:
    """The names of the shipped rule sets, sorted."""
    return sorted(p.stem for p in rules_dir().glob("*.toml"))


def course_file(name: str = DEMO_COURSE) -> Path:
    """A shipped course file by name (``demo``, ``c3``, ``bay-shift``)."""
    return config_dir() / "courses" / f"{name}.toml"
