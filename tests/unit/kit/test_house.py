"""The house keeps its shape: no module of bootstrap/ or lambdas/ over 300 lines, and each room
of bootstrap/ imports only the rooms below it (and what it holds itself)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bootstrap.config import ROOT

MOST_LINES = 300
BOOTSTRAP = ROOT / "bootstrap"
# Each room of bootstrap/ and its floor: a room imports rooms of lower floors only.
FLOORS = {
    "names": 0,
    "progress": 0,
    "find_python": 0,
    "config": 1,
    "contracts": 1,
    "packaging": 2,
    "engines": 3,
    "stack": 3,
    "ops": 4,
    "dev": 4,
    "arguments": 5,
    "console": 5,
    "__main__": 6,
}


def modules(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def room_of(path: Path) -> str:
    return path.relative_to(BOOTSTRAP).parts[0].removesuffix(".py")


def bootstrap_imports(path: Path) -> set[str]:
    """The rooms of bootstrap/ that a module imports."""
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bootstrap":
            parts = node.module.split(".")
            if len(parts) > 1:
                rooms.add(parts[1])
            else:
                rooms |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            rooms |= {a.name.split(".")[1] for a in node.names if a.name.startswith("bootstrap.")}
    return rooms


@pytest.mark.parametrize(
    "path", modules(BOOTSTRAP) + modules(ROOT / "lambdas"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_is_over_300_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MOST_LINES


def test_every_room_of_bootstrap_has_a_floor() -> None:
    rooms = {room_of(path) for path in modules(BOOTSTRAP)} - {"__init__"}
    assert rooms == set(FLOORS)


@pytest.mark.parametrize("path", modules(BOOTSTRAP), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_room_imports_only_the_rooms_below_it(path: Path) -> None:
    room = room_of(path)
    if room == "__init__":
        return
    upward = {other for other in bootstrap_imports(path) - {room} if FLOORS[other] >= FLOORS[room]}
    assert upward == set(), f"{path.relative_to(ROOT)} imports {sorted(upward)}, not below {room}"
