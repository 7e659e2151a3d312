"""Shared test helpers: an isolated cache, a CLI runner, the location of ../shared/data."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tlarena.executors import worker_threads   # imports no torch

# Under pytest-xdist (pyproject's addopts) the workers share the cores: each worker's torch, and every
# process its tests start, gets the share `tlarena run --workers` gives each run. Set before torch is
# imported, which reads it once; more threads than cores leave each waiting on the others.
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    share = worker_threads(int(os.environ["PYTEST_XDIST_WORKER_COUNT"]), None) or os.cpu_count() or 1
    os.environ.setdefault("OMP_NUM_THREADS", str(share))

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
PLUGIN_FIXTURES = Path(__file__).parent / "plugin_fixtures"
EXAMPLE_PLUGIN = Path(__file__).parent / "example_plugin"


def load_benchmark(name: str):
    """A script of benchmarks/ as a module, for tests of its functions (the scripts are no package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A tiny budget: enough to show learning on the embedded pairs, seconds per run.
TINY = ["--steps", "30", "--source-steps", "60", "--eval-points", "3", "--seeds", "0"]

requires_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"real data not found at {SHARED_DATA} (../shared/data is absent)")


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Datasets and source models go to a per-session cache, never the user's ~/.cache."""
    cache = os.environ.get("TLARENA_TEST_CACHE") or str(tmp_path_factory.mktemp("tlarena-cache"))
    os.environ["TLARENA_CACHE"] = cache
    return Path(cache)


class IdentityTrunk(torch.nn.Module):
    """A timm-like model whose features are its inputs and whose head is ``head``: a method built on
    it (``Network(IdentityTrunk(head))``) sees exactly the feature rows a test gives it."""

    def __init__(self, head: torch.nn.Linear):
        super().__init__()
        self.num_features, self.fc = head.in_features, head

    def forward_features(self, x):
        return x

    def forward_head(self, x, pre_logits=False):
        return x if pre_logits else self.fc(x)

    def get_classifier(self):
        return self.fc


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `tlarena ARGS` in this process; returns exit code, stdout and stderr."""
    from tlarena import commands
    from rich.console import Console

    def run(*args: str, cwd: Path | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        # rich consoles are created at import; point them at the captured streams, wide and plain
        monkeypatch.setattr(commands, "console", Console(file=sys.stdout, width=200, color_system=None))
        monkeypatch.setattr(commands, "errors", Console(file=sys.stderr, width=200, color_system=None))
        from tlarena.cli import main
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def tlarena_process(*args: str, cwd: Path | None = None, env: dict | None = None,
                    timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the installed `tlarena` console script in a fresh process."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "tlarena", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def offline(monkeypatch):
    """No hub, and no data dir from the environment for the command line to pick up."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("TLARENA_DATA_DIR", raising=False)


@pytest.fixture
def contract_v2(monkeypatch):
    """The acceptance plugins of the method contract v2 (tests/plugin_fixtures/contract_v2), imported."""
    monkeypatch.syspath_prepend(str(PLUGIN_FIXTURES))
    import contract_v2

    return contract_v2


def table_rows(out: str) -> dict[str, str]:
    """The rows of a table printed by the CLI, by their first cell; a row that rich wrapped over
    several lines (a blank first cell continues the row above) is joined into one string."""
    rows: dict[str, str] = {}
    last = None
    for line in out.splitlines():
        if line.count("│") <= 3:
            continue
        name = line.split("│")[1].strip()
        if name:
            rows[name], last = line, name
        elif last is not None:
            rows[last] += " " + line
    return rows
