"""The layout's rules, read from the source: which room may import which, no import circles,
no room reaching into another's private names.

``examroom/__init__.py`` and ``docs/architecture.md`` give the order; this is its check. An
import under ``if TYPE_CHECKING:`` is a type annotation, not a dependency, and is not counted.
"""
from __future__ import annotations

import ast
import functools
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# One worker reads the sources for all of them (a second would parse every module again).
pytestmark = pytest.mark.xdist_group("architecture")

PACKAGES = ("examroom", "devices", "scoring", "web")  # folders; web/ is the import package examroom_web
IMPORT_NAME = {"web": "examroom_web"}

# Rooms of examroom and what each may import (besides itself, devices and scoring).
ALLOWED = {
    "messages": set(),
    "courseclock": set(),
    "loopback": set(),
    "heap": set(),
    "records": {"courseclock"},
    "accounts": {"records"},
    "faces": {"courseclock", "records", "heap"},
    "live": {"records", "loopback"},
    "city": {"records"},
    "coursetools": set(),
    "examday": {"courseclock", "records", "faces"},
    "video": {"courseclock", "records", "live", "loopback"},
    "site": {"courseclock", "records", "video"},
    "station": {"courseclock", "records", "accounts", "faces", "live", "examday", "video", "site", "heap"},
    "simulation": {"courseclock", "records", "accounts", "faces", "live", "coursetools", "examday", "video",
                   "site", "station", "city", "heap"},
    "city": {"courseclock", "records", "accounts"},
    "cli": {"courseclock", "records", "accounts", "faces", "live", "coursetools", "examday", "video", "site",
            "station", "simulation", "city"},
}
# messages (translatable supervisor-facing errors) is the bottom: every room may import it.
for _room_name in ALLOWED:
    if _room_name != "messages":
        ALLOWED[_room_name].add("messages")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    parts[0] = IMPORT_NAME.get(parts[0], parts[0])
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


@functools.cache  # parsed when a test first asks (not at collection, in every worker), once
def _imports() -> dict[str, list[tuple[str, list[str], int]]]:
    """Every module of the project -> (imported module, imported names, line) for each import."""
    found: dict[str, list[tuple[str, list[str], int]]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "versions" in path.parts:  # migration scripts: run by alembic, imported by nothing
                continue
            name = _module_name(path)
            tree = ast.parse(path.read_text(), str(path))
            skip = _type_checking_lines(tree)
            entries = []
            for node in ast.walk(tree):
                if getattr(node, "lineno", None) in skip:
                    continue
                if isinstance(node, ast.Import):
                    entries += [(alias.name, [], node.lineno) for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    entries.append((node.module, [alias.name for alias in node.names], node.lineno))
            found[name] = entries
    return found


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "examroom" and len(parts) > 1 else None


def _targets(module: str, names: list[str]) -> list[str]:
    """The project modules an import statement loads: the module, and submodules named in it."""
    modules = _imports()
    targets = [module] if module in modules else []
    targets += [f"{module}.{name}" for name in names if f"{module}.{name}" in modules]
    return targets


def test_every_room_is_in_the_table():
    rooms = {p.stem if p.is_file() else p.name for p in (ROOT / "examroom").iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert rooms == set(ALLOWED)


def test_rooms_import_only_what_they_may():
    wrong = []
    for module, entries in _imports().items():
        room = _room(module)
        for target, names, line in entries:
            top, home = target.split(".")[0], module.split(".")[0]
            if home in ("devices", "scoring") and top in ("examroom", "examroom_web", "web"):
                wrong.append(f"{module}:{line} imports {target} (devices and scoring import neither examroom nor web)")
            if home == "examroom" and top in ("examroom_web", "web"):
                wrong.append(f"{module}:{line} imports {target} (examroom never imports web)")
            other = _room(target)
            if room and other and other != room and other not in ALLOWED[room]:
                wrong.append(f"{module}:{line} imports {target} ({room} may import {sorted(ALLOWED[room])})")
    assert not wrong, "\n".join(wrong)


def test_no_room_takes_another_rooms_private_names():
    wrong = []
    for module, entries in _imports().items():
        for target, names, line in entries:
            other_package = target.split(".")[:2] != module.split(".")[:2]
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if other_package and private:
                wrong.append(f"{module}:{line} imports {private} from {target}")
    assert not wrong, "\n".join(wrong)


def test_there_are_no_import_circles():
    graph: dict[str, set[str]] = defaultdict(set)
    for module, entries in _imports().items():
        for target, names, _line in entries:
            for dependency in _targets(target, names):
                if dependency != module and not module.startswith(dependency + "."):
                    graph[module].add(dependency)
    circles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(_imports()):
        if module not in state:
            visit(module)
    assert not circles, "\n".join(circles)


@pytest.mark.parametrize("room", sorted(r for r in ALLOWED if (ROOT / "examroom" / r).is_dir()))  # module rooms: courseclock, loopback, messages, heap
def test_each_room_says_what_it_owns_and_may_import(room):
    doc = ast.get_docstring(ast.parse((ROOT / "examroom" / room / "__init__.py").read_text())) or ""
    assert "May import" in doc, f"examroom/{room}/__init__.py: the docstring names what the room owns and may import"
