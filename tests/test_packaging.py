"""Packaging: every third-party import is declared, the licence is shipped, no Unix-only import."""
import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions

from conftest import ROOT
from packaging.requirements import Requirement   # pytest's own dependency

STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def _imported_top_level_modules() -> set[str]:
    modules = set()
    for path in [*(ROOT / "tlarena").rglob("*.py"), *(ROOT / "plugins").rglob("*.py"),
                 *(ROOT / "leaderboard").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules - STDLIB - {"tlarena", "tlarena_plugins", "tlarena_leaderboard"}


def _requirements(core_only: bool = False) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [] if core_only else [d for extra in project.get("optional-dependencies", {}).values() for d in extra]
    return project["dependencies"] + extras


def _name(requirement: str) -> str:
    return re.split(r"[<>=\[;\s]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> set[str]:
    return {_name(requirement) for requirement in _requirements()}


def test_every_third_party_import_is_a_declared_dependency():
    distributions = packages_distributions()
    undeclared = {module for module in _imported_top_level_modules()
                  if not {d.lower().replace("_", "-") for d in distributions.get(module, [module])} & _declared()}
    assert undeclared == set()


def test_every_dependency_has_a_major_version_bound():
    unbounded = [r for r in _requirements() if _name(r) != "tlarena" and "<" not in r]
    assert unbounded == []


def test_the_constraints_file_pins_every_core_dependency():
    # the versions measured with, on this Python: a dependency for other Pythons only (tomli below
    # 3.11) has nothing installed here to pin
    pinned = {_name(line) for line in (ROOT / "constraints.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    markers = [Requirement(r).marker for r in _requirements(core_only=True)]
    applying = [r for r, marker in zip(_requirements(core_only=True), markers) if marker is None or marker.evaluate()]
    assert {_name(r) for r in applying} - pinned == set()


def test_the_mit_licence_that_pyproject_names_is_shipped():
    assert "MIT License" in (ROOT / "LICENSE").read_text()


def test_the_cli_imports_without_the_unix_only_resource_module():
    # Windows has no `resource` module: importing the harness must not need it.
    code = "import sys; sys.modules['resource'] = None; import tlarena.commands, tlarena.trainer"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
