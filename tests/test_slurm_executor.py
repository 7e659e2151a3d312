"""`tlarena run --executor slurm`, with submitit's LocalExecutor standing in for the cluster
(`--executor-option cluster=local`): real jobs, each a fresh Python process that submitit starts
from a pickled call, exactly as sbatch would on a node. What differs on a real cluster is only how
a job is queued and started."""
import sys

import pytest

from conftest import PLUGIN_FIXTURES, TINY

from tlarena import claims
from tlarena.records import read_records, record_path

PAIR = "uci-digits->uci-digits-rotated"
GRID = ("run", "--methods", "fine-tune,scratch", "--pairs", PAIR, "--settings", "supervised", *TINY)

def _submitit_missing() -> bool:
    try:
        import submitit  # noqa: F401
    except ImportError:
        return True
    return False


requires_submitit = pytest.mark.skipif(
    _submitit_missing(), reason="submitit is not installed (pip install 'tlarena[slurm]')")


def _local_cluster(tmp_path, *more: str) -> list[str]:
    options = ["cluster=local", f"folder={tmp_path / 'jobs' / '%j'}", *more]
    return ["--executor", "slurm", *(arg for option in options for arg in ("--executor-option", option))]


def _accuracies(results):
    records, problems = read_records(results)
    assert problems == []
    return {r.key: (r.status, r.metrics.top1 if r.metrics else None) for r in records}


@requires_submitit
def test_slurm_jobs_record_what_the_serial_executor_records(cli, tmp_path):
    serial, jobs = tmp_path / "serial", tmp_path / "slurm"
    assert cli(*GRID, "--results", str(serial)).code == 0
    result = cli(*GRID, "--results", str(jobs), *_local_cluster(tmp_path, "jobs=2"))
    assert result.code == 0, result.err
    expected = _accuracies(serial)
    assert len(expected) == 2 and all(status == "ok" for status, _ in expected.values())
    assert _accuracies(jobs) == expected
    assert sorted(p.name for p in jobs.iterdir()) == sorted(f"{key}.json" for key in expected)


def _keys(methods: list[str]) -> dict[str, str]:
    """The run key of each method of GRID, as `tlarena run` computes it."""
    from tlarena.grid import grid
    from tlarena.plugins import load_arena
    from tlarena.settings import Setting
    from tlarena.spec import Budget

    specs = grid(load_arena(), methods, [PAIR], "lenet", "none", [0],
                 Budget(steps=30, source_steps=60, eval_points=3), [Setting.SUPERVISED])
    return {spec.method: spec.key for spec in specs}


@requires_submitit
def test_a_run_claimed_by_another_process_is_not_submitted(cli, tmp_path):
    results = tmp_path / "results"
    keys = _keys(["fine-tune", "scratch"])
    held = claims.take(claims.claim_path(record_path(results, keys["scratch"])))   # a live "other process"

    result = cli(*GRID, "--results", str(results), *_local_cluster(tmp_path, "jobs=2"))
    held.release()

    assert result.code == 0, result.err
    assert "running elsewhere" in result.out
    assert list(_accuracies(results)) == [keys["fine-tune"]]
    assert len(list((tmp_path / "jobs").glob("[0-9]*"))) == 1, "one job: the claimed run was not submitted"


@requires_submitit
def test_a_job_lost_mid_run_is_submitted_again(cli, tmp_path, monkeypatch):
    mark = tmp_path / "died"
    monkeypatch.setenv("DIES_ONCE_MARK", str(mark))   # the jobs inherit this process's environment
    results = tmp_path / "results"
    result = cli("--plugin", "dies_once", "run", "--methods", "dies-once", "--pairs", PAIR, "--settings",
                 "supervised", "--results", str(results), *TINY, *_local_cluster(tmp_path), cwd=PLUGIN_FIXTURES)
    assert result.code == 0, result.err
    assert mark.exists(), "the first job died"
    records, problems = read_records(results)
    assert problems == [] and [r.status for r in records] == ["ok"]
    assert sorted(p.name for p in results.iterdir()) == [f"{records[0].key}.json"]
    assert len(list((tmp_path / "jobs").glob("[0-9]*"))) == 2


@pytest.mark.parametrize("option, message", [
    ("partion=gpu", "unknown option of executor slurm 'partion'. Did you mean 'partition'?"),
    ("jobs=0", "--executor-option jobs takes a whole number of at least 1, not '0'"),
    ("cluster=lsf", "--executor-option cluster takes slurm or local, not 'lsf'"),
    ("partition", "--executor-option takes KEY=VALUE"),
])
def test_executor_options_are_checked_before_any_work(cli, tmp_path, monkeypatch, option, message):
    monkeypatch.setitem(sys.modules, "submitit", None)   # no job could start, installed or not
    result = cli(*GRID, "--results", str(tmp_path / "r"), "--executor", "slurm",
                 "--executor-option", option)
    assert result.code == 2 and message in result.err, result.err
    assert not (tmp_path / "r").exists()


def test_without_submitit_the_slurm_executor_says_how_to_install_it(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "submitit", None)
    result = cli(*GRID, "--results", str(tmp_path / "r"), *_local_cluster(tmp_path))
    assert result.code == 2 and "pip install 'tlarena[slurm]'" in result.err, result.err


def test_without_sbatch_the_slurm_executor_points_to_the_local_cluster(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))   # no sbatch on it
    result = cli(*GRID, "--results", str(tmp_path / "r"), "--executor", "slurm")
    assert result.code == 2 and "no sbatch on this machine" in result.err
    assert "--executor-option cluster=local" in result.err


def test_an_unknown_executor_is_refused_with_the_registered_ones_near_it(cli, tmp_path):
    result = cli(*GRID, "--results", str(tmp_path / "r"), "--executor", "slrum")
    assert result.code == 2 and "unknown executor 'slrum'. Did you mean 'slurm'?" in result.err
