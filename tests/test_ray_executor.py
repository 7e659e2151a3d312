"""`tlarena run --executor ray` on a local Ray cluster: the serial executor's records, retries of lost workers."""
import os

import pytest

from conftest import PLUGIN_FIXTURES, TINY

from tlarena.records import read_records

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'tlarena[ray]')")

PAIR = "uci-digits->uci-digits-rotated"
GRID = ("run", "--methods", "fine-tune,scratch", "--pairs", PAIR, "--settings", "supervised",
        "--steps", "10", "--source-steps", "20", "--eval-points", "2", "--seeds", "0")


@pytest.fixture(scope="session")
def ray_cluster(isolated_cache, tmp_path_factory):
    """One local cluster of 2 CPUs for the session; its workers see the test cache, the plugin
    fixtures and the mark of the method that dies once."""
    mark = tmp_path_factory.mktemp("ray") / "died"
    os.environ["DIES_ONCE_MARK"] = str(mark)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"TLARENA_CACHE": str(isolated_cache), "DIES_ONCE_MARK": str(mark),
                                       "PYTHONPATH": str(PLUGIN_FIXTURES)}})
    yield mark
    ray.shutdown()


def _accuracies(results):
    records, problems = read_records(results)
    assert problems == []
    return {r.key: (r.status, r.metrics.top1 if r.metrics else None) for r in records}


def test_ray_records_what_the_serial_executor_records(cli, ray_cluster, tmp_path):
    serial, on_ray = tmp_path / "serial", tmp_path / "ray"
    assert cli(*GRID, "--results", str(serial)).code == 0
    result = cli(*GRID, "--results", str(on_ray), "--executor", "ray")
    assert result.code == 0, result.err
    expected = _accuracies(serial)
    assert len(expected) == 2 and all(status == "ok" for status, _ in expected.values())
    assert _accuracies(on_ray) == expected
    assert sorted(p.name for p in on_ray.iterdir()) == sorted(f"{key}.json" for key in expected)


def test_a_worker_lost_mid_run_is_retried(cli, ray_cluster, tmp_path):
    results = tmp_path / "results"
    result = cli("--plugin", "dies_once", "run", "--methods", "dies-once", "--pairs", PAIR, "--settings",
                 "supervised", "--results", str(results), *TINY, "--executor", "ray", cwd=PLUGIN_FIXTURES)
    assert result.code == 0, result.err
    assert ray_cluster.exists(), "the first attempt died"
    records, problems = read_records(results)
    assert problems == [] and [r.status for r in records] == ["ok"]
    assert sorted(p.name for p in results.iterdir()) == [f"{records[0].key}.json"]


def test_ray_options_are_checked(cli, tmp_path):
    result = cli(*GRID, "--results", str(tmp_path / "r"), "--address", "auto")
    assert result.code == 2 and "--address is for --executor ray" in result.err
