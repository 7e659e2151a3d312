"""The cheap commands stay cheap: `tlarena --help`, `tlarena show` and `tlarena list` (once its
catalog is made) never import torch, timm or datasets (seconds each), and `tlarena run --dry-run`
says what is left and how long it should take."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from conftest import PLUGIN_FIXTURES, ROOT, TINY, tlarena_process
from tlarena_leaderboard import synthetic

HEAVY = ("torch", "timm", "datasets", "scipy.stats")

# Runs the command line in a fresh interpreter, then names the heavy modules it imported.
PROBE = """
import sys
from tlarena.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("imported:", ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def imported(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [name for name in done.stdout.rsplit("imported:", 1)[1].strip().split(",") if name]


@pytest.fixture
def results(tmp_path):
    records = [synthetic.record(method, "synth-digits->synth-digits-colour", seed, top1=0.5 + 0.1 * seed)
               for method in ("scratch", "fine-tune") for seed in range(3)]
    return synthetic.write(tmp_path / "results", records)


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["--version"]])
def test_help_imports_neither_torch_nor_timm_nor_datasets(args):
    assert imported(*args) == []


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_show_imports_neither_torch_nor_timm_nor_datasets(results, fmt):
    assert imported("show", "--results", str(results), "--format", fmt) == []


LISTED = ["methods", "pairs", "suites", "backbones", "executors", "plugins"]


# Stops the command as it first imports torch, saying whether the workers' fork server is running.
SERVER_PROBE = """
import os
import sys
import multiprocessing.forkserver as server

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            pid = server._forkserver._forkserver_pid
            print("server before torch:", pid is not None, flush=True)
            if pid is not None:
                os.kill(pid, 9)   # it holds this process's stdout open till its own imports end
            os._exit(0)

sys.meta_path.insert(0, Watch())
from tlarena.cli import main
main(sys.argv[1:])
"""


def test_run_starts_the_workers_fork_server_before_it_imports_torch(tmp_path):
    # Regression: the server started when the first run was sent, after this process had imported
    # torch and timm, so the server's own import of them (8 s here) came on top: one tiny run took
    # 24 s; with the two imports side by side, 17 s.
    done = subprocess.run([sys.executable, "-c", SERVER_PROBE, "run", "--methods", "fine-tune",
                           "--results", str(tmp_path / "results")], capture_output=True, text=True, timeout=120)
    assert done.stdout == "server before torch: True\n", done.stderr


def test_list_imports_neither_torch_nor_timm_nor_datasets_once_its_catalog_is_made():
    # Regression: every `tlarena list` loaded the plugins, which import all three (seconds).
    made = imported("list", "methods")   # the first listing loads the plugins and keeps their tables
    assert {what: imported("list", what) for what in LISTED} == {what: [] for what in LISTED}
    assert "torch" in made or made == []   # made here, or by an earlier listing of this test session


def test_a_mistyped_name_in_run_answers_without_importing_torch_once_a_run_made_the_catalog(
        cli, tmp_path, monkeypatch):
    # Regression: `run` loaded the plugins (torch, timm, datasets: 10-18 s here) before it looked at
    # --methods, so a typo cost as long as the start of a real run.
    monkeypatch.setenv("TLARENA_CACHE", str(tmp_path / "cache"))
    first = cli("run", "--methods", "fine-tun", "--results", str(tmp_path / "results"))
    assert first.code == 2 and "unknown method 'fine-tun'. Did you mean 'fine-tune'" in first.err
    for args, message in ((["--methods", "dann,fine-tun"], "unknown method 'fine-tun'. Did you mean"),
                          (["--pairs", "mnist->uspss"], "unknown pair 'mnist->uspss'. Did you mean"),
                          (["--all", "--suite", "digit"], "unknown suite 'digit'. Did you mean")):
        done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), "run", *args],
                              capture_output=True, text=True, timeout=120)
        assert message in done.stderr and done.stdout.strip() == "imported:", (args, done.stderr)


def test_a_typo_answered_from_the_catalog_still_warns_of_a_broken_plugin(cli, tmp_path, monkeypatch):
    # Regression: the catalog's answer skipped loading the plugins, and with it their warnings.
    monkeypatch.setenv("TLARENA_CACHE", str(tmp_path / "cache"))
    broken = ("--plugin", "raise_at_import", "run", "--methods", "fine-tun")
    assert cli(*broken, cwd=PLUGIN_FIXTURES).code == 2   # loads the plugins, writes the catalog
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *broken], cwd=PLUGIN_FIXTURES,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "imported:", done.stderr   # answered from the catalog
    assert "raise_at_import" in done.stderr and "broken on purpose" in done.stderr
    assert "unknown method 'fine-tun'" in done.stderr


def test_list_shows_a_plugin_as_it_is_now_not_as_it_was_catalogued(tmp_path):
    plugin = tmp_path / "listed_plugin.py"
    source = ("import tlarena\nfrom tlarena import Setting\n\nclass M(tlarena.TransferMethod):\n"
              "    name = {name!r}\n    family = 'parameter transfer'\n    paper = 'none'\n"
              "    settings = frozenset({{Setting.SUPERVISED}})\n\n"
              "@tlarena.hookimpl\ndef register_methods(register):\n    register(M)\n")
    plugin.write_text(source.format(name="first"))
    before = tlarena_process("--plugin", "listed_plugin", "list", "methods", cwd=tmp_path)
    plugin.write_text(source.format(name="second-edition"))
    after = tlarena_process("--plugin", "listed_plugin", "list", "methods", cwd=tmp_path)
    assert before.returncode == after.returncode == 0, after.stderr
    assert " first " in before.stdout and " second-edition " in after.stdout
    assert " first " not in after.stdout


def test_the_public_api_is_still_there_when_first_asked_for():
    import tlarena

    assert {"TransferMethod", "DomainPair", "Backbone", "Setting", "hookimpl"} <= set(dir(tlarena))
    assert tlarena.Setting.UDA.value == "uda" and issubclass(tlarena.TransferMethod, object)
    with pytest.raises(AttributeError):
        tlarena.NoSuchThing


def test_dry_run_writes_nothing_and_says_everything_is_left(cli, tmp_path):
    results = tmp_path / "results"
    result = cli("run", "--methods", "source-only,fine-tune", "--pairs", "uci-digits->uci-digits-rotated",
                 "--settings", "uda,task", "--seeds", "0,1", "--results", str(results), "--dry-run")
    assert result.code == 0, result.err
    # nothing recorded to time from: unknown, but for runs that cannot apply (they do not train)
    assert "0 recorded, 4 left; estimated time left unknown" in result.out
    assert not results.exists()


def test_dry_run_estimates_the_rest_from_runs_of_the_same_cell_on_this_hardware(cli, tmp_path, monkeypatch):
    # a real run, then a dry run of the same cell with one more seed
    grid = ["--methods", "fine-tune", "--pairs", "uci-digits->uci-digits-rotated", "--settings", "supervised",
            "--results", str(tmp_path), "--in-process", *TINY]
    assert cli("run", *grid).code == 0
    (record,) = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("run", *grid, "--seeds", "0,1", "--dry-run")
    assert result.code == 0, result.err
    assert "1 recorded, 1 left" in result.out and "1 from the same cell" in result.out
    assert sorted(p.name for p in tmp_path.iterdir()) == before

    from tlarena.plan import wall_seconds, duration
    from tlarena.records import RunRecord
    seconds = wall_seconds(RunRecord.from_dict(record))
    assert f"estimated time left {duration((seconds, 0))}" in result.out

    # other hardware: no estimate
    monkeypatch.setattr("tlarena.environment.device_name", lambda device, threads=None: "another machine")
    assert "1 unknown" in cli("run", *grid, "--seeds", "0,1", "--dry-run").out


def _dry_run_with_two_workers(cli, tmp_path, monkeypatch, seeds: str):
    """One run recorded as a worker of two would record it (one thread of 2 cores), then a dry run
    of ``seeds`` with ``--workers 2``."""
    grid = ["--methods", "fine-tune", "--pairs", "uci-digits->uci-digits-rotated", "--settings", "supervised",
            "--results", str(tmp_path), *TINY]
    threads = torch.get_num_threads()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    try:
        assert cli("run", *grid, "--in-process", "--threads", "1").code == 0
        torch.set_num_threads(2)
        return cli("run", *grid, "--seeds", seeds, "--workers", "2", "--dry-run")
    finally:
        torch.set_num_threads(threads)


def test_dry_run_with_workers_estimates_from_runs_recorded_with_a_workers_share_of_the_cores(
        cli, tmp_path, monkeypatch):
    # Regression: the estimate looked for runs recorded with this process's thread count, while
    # each of N workers records its share of the cores: a `--workers 2` grid never found its own runs.
    result = _dry_run_with_two_workers(cli, tmp_path, monkeypatch, "0,1")
    assert result.code == 0 and "(1 threads) →" in result.out, result.out
    assert "1 from the same cell" in result.out and "unknown" not in result.out, result.out


def test_dry_run_with_workers_shares_the_time_left_among_them(cli, tmp_path, monkeypatch):
    # Regression: the estimate added up every run left, as if they ran one after another: `run
    # --all --rerun --workers 2` said ~60 min and took 30, while the grid's own ETA divides by 2.
    monkeypatch.setattr("tlarena.plan.wall_seconds", lambda record: 120.0)
    result = _dry_run_with_two_workers(cli, tmp_path, monkeypatch, "0,1,2")
    assert "1 recorded, 2 left; estimated time left ~2 min with 2 workers (4 min of runs)" in result.out, result.out


def test_dry_run_of_a_complete_grid_leaves_nothing(cli, tmp_path):
    # the committed results hold every run of `tlarena run --all --seeds 0` (and more seeds of some)
    shutil.copytree(ROOT / "results", tmp_path / "results")
    result = cli("run", "--all", "--seeds", "0", "--results", str(tmp_path / "results"), "--dry-run")
    assert result.code == 0 and " recorded, 0 left" in result.out, result.out


def test_a_run_with_everything_recorded_reads_each_record_once_before_its_grid(cli, tmp_path, monkeypatch):
    # Regression: the data and weights checks, the estimates and the grid each read the whole
    # results folder, twice where newer schemas were looked for: 8 reads of every record per run,
    # 20 minutes of a run's start on 100,000 records. Now: one for the checks and estimates, one
    # by the grid (another process may have recorded since), one for the board.
    from pathlib import Path

    results = tmp_path / "results"
    args = ("run", "--methods", "fine-tune,scratch", "--pairs", "uci-digits->uci-digits-rotated", "--settings",
            "supervised", "--results", str(results), *TINY)
    assert cli(*args).code == 0
    reads, read_text = [], Path.read_text

    def counted(path, *more, **options):
        if path.parent == results and path.suffix == ".json":
            reads.append(path.name)
        return read_text(path, *more, **options)

    monkeypatch.setattr(Path, "read_text", counted)
    again = cli(*args)

    assert again.code == 0 and "every run is already recorded" in again.out
    assert sorted(reads) == sorted([path.name for path in results.glob("*.json")] * 3)
