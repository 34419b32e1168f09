"""Dependencies point one way: core ← licensing ← billing; support reads the others (STYLE 1, issue 7)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The project's wiring may name the apps: settings, the URLconf (which mounts the API) and the admin site (whose
# start page is the cockpit). Demo data lives in the ``demo`` app above all others; the cockpit reads every app.
CORE_WIRING = {"settings.py", "urls.py", "admin_site.py"}


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
        ("vendorportal", {"licensing", "billing", "support", "api", "demo", "cockpit"}),
        ("licensing", {"billing", "support", "api", "demo", "cockpit"}),
        ("billing", {"support", "api", "demo", "cockpit"}),
        ("support", {"api", "demo", "cockpit"}),
        ("cockpit", {"api", "demo"}),
    ],
)
def test_no_import_against_the_direction(package, forbidden):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_top_levels(path) & forbidden)
        for path in sources(package)
        if path.name not in (CORE_WIRING if package == "vendorportal" else set())
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, lazily inside functions too."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def readers():
    """Selectors and constants of every app: they read, and never pull in the writers (STYLE 19)."""
    for package in ("vendorportal", "licensing", "billing", "support"):
        for path in sources(package):
            parts = path.relative_to(ROOT).parts
            if path.stem in ("selectors", "constants") or "selectors" in parts[:-1]:
                yield path


def test_selectors_and_constants_never_import_services():
    paths = list(readers())
    assert any(p.name == "selectors.py" and p.parent.name == "billing" for p in paths)
    wrong = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if ".services" in m or m.endswith("services")
        )
        for path in paths
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def test_every_tests_folder_is_in_the_suite():
    """``make test`` (and CI) runs pytest's ``testpaths``: a tests folder outside them would never run
    (the cockpit's did not, until issue 20's last session)."""
    import tomllib

    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"]
    folders = {
        path.parent.relative_to(ROOT)
        for path in ROOT.glob("*/**/tests/test_*.py")
        if not {".venv", "node_modules", "verifier-java"} & set(path.relative_to(ROOT).parts)
    }
    assert folders
    outside = sorted(str(f) for f in folders if f.parts[0] not in testpaths)
    assert outside == []
