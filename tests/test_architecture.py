"""The packages' import direction: `core` at the bottom, `cli` wiring the rest, nothing importing upwards.

    core  <-  service, loaders, localnode  <-  cli  <-  bench  <-  tests

`service`, `loaders` and `localnode` are siblings: none imports another. Lazy imports inside functions count too
(every `import` statement in the file is read), so a dependency cannot hide in a function body.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "client": frozenset({"client"}),  # shipped to callers of the API: it stands alone
    "service": frozenset({"core", "service"}),
    "loaders": frozenset({"core", "loaders"}),
    "localnode": frozenset({"core", "localnode"}),
    "cli": frozenset({"core", "service", "loaders", "localnode", "cli"}),
    "bench": frozenset({"core", "service", "loaders", "localnode", "cli", "bench"}),
}
PROJECT_PACKAGES = frozenset({*ALLOWED, "tests"})


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """(top-level project package, line) for every import in `path`."""
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            top = name.split(".")[0]
            if top in PROJECT_PACKAGES:
                found.add((top, node.lineno))
    return found


def test_no_package_imports_upwards_or_sideways() -> None:
    violations = []
    for package, allowed in ALLOWED.items():
        files = sorted((ROOT / package).rglob("*.py"))
        assert files, f"package {package}/ has no modules: is the layout in this test still true?"
        for path in files:
            for imported, line in sorted(imported_packages(path)):
                if imported not in allowed:
                    violations.append(
                        f"{path.relative_to(ROOT)}:{line} imports {imported} (allowed: {sorted(allowed)})"
                    )
    assert not violations, "imports against the layering:\n" + "\n".join(violations)


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself finds module-level and function-level imports."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from service.app import create_app\n\ndef f():\n    import loaders.run\n    from core import fields\n"
    )
    assert imported_packages(sample) == {("service", 1), ("loaders", 4), ("core", 5)}


def test_every_project_package_is_covered() -> None:
    """A new top-level package must be placed in the layering, not slip past the check."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages <= PROJECT_PACKAGES, f"place {sorted(packages - PROJECT_PACKAGES)} in ALLOWED"
