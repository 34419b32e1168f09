"""Dependencies point one way: core ← licensing ← billing; support reads the others (STYLE 1, issue 7)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The project's wiring may name the apps: settings, the URLconf, demo data and its command.
CORE_WIRING = {"settings.py", "urls.py", "demo.py", "load_demo.py"}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def sources(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = set(path.relative_to(ROOT).parts)
        if "tests" in parts or "migrations" in parts:
            continue
        yield path


@pytest.mark.parametrize(
    "package,forbidden",
    [
        ("vendorportal", {"licensing", "billing", "support"}),
        ("licensing", {"billing", "support"}),
        ("billing", {"support"}),
    ],
)
def test_no_import_against_the_direction(package, forbidden):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_top_levels(path) & forbidden)
        for path in sources(package)
        if path.name not in (CORE_WIRING if package == "vendorportal" else set())
    }
    assert {k: v for k, v in wrong.items() if v} == {}
