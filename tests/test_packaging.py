"""Packaging: every third-party import is declared, the licence is shipped, no Unix-only import."""
import ast
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions

from conftest import ROOT

STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def _imported_top_level_modules() -> set[str]:
    modules = set()
    for path in [*(ROOT / "tlarena").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules - STDLIB - {"tlarena", "tlarena_plugins"}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + [d for extra in project.get("optional-dependencies", {}).values()
                                       for d in extra]
    return {name.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower().replace("_", "-")
            for name in names}


def test_every_third_party_import_is_a_declared_dependency():
    distributions = packages_distributions()
    undeclared = {module for module in _imported_top_level_modules()
                  if not {d.lower().replace("_", "-") for d in distributions.get(module, [module])} & _declared()}
    assert undeclared == set()


def test_the_mit_licence_that_pyproject_names_is_shipped():
    assert "MIT License" in (ROOT / "LICENSE").read_text()


def test_the_cli_imports_without_the_unix_only_resource_module():
    # Windows has no `resource` module: importing the harness must not need it.
    code = "import sys; sys.modules['resource'] = None; import tlarena.commands, tlarena.trainer"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
