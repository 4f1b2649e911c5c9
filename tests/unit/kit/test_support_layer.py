"""What the tests share lives in tests/support/: no test module, conftest or benchmark imports
another test module (a helper borrowed from a test file breaks when that test changes)."""

from __future__ import annotations

import ast
from pathlib import Path

from bootstrap.config import ROOT

SUPPORT = "tests.support"


def imported_test_modules(path: Path) -> list[str]:
    """The modules under `tests` that the file imports, other than tests/support's."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module] if node.module != "tests" else [f"tests.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found += [
            m
            for m in modules
            if m.split(".")[0] == "tests" and m != SUPPORT and not m.startswith(f"{SUPPORT}.")
        ]
    return found


def test_tests_and_the_benchmark_import_shared_helpers_from_tests_support_only() -> None:
    files = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])
    borrowed = {
        str(path.relative_to(ROOT)): modules for path in files if (modules := imported_test_modules(path))
    }

    assert len(files) > 50
    assert borrowed == {}


def test_the_check_sees_a_helper_borrowed_from_a_test_module(tmp_path: Path) -> None:
    borrower = tmp_path / "test_borrower.py"
    borrower.write_text(
        "from tests.support.polling import wait_for\n"
        "from tests.e2e.test_appointment_flow import wait_settled\n"
        "import tests.unit.conftest\n"
        "from tests.unit.functions.test_services import clock\n"
        "from tests import kit_cli\n"
    )

    assert imported_test_modules(borrower) == [
        "tests.e2e.test_appointment_flow",
        "tests.unit.conftest",
        "tests.unit.functions.test_services",
        "tests.kit_cli",
    ]
