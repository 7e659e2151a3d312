"""Worker processes: side by side they record what one worker records, and every run exactly once."""
from conftest import PLUGIN_FIXTURES, TINY

from tlarena.records import read_records

GRID = ("run", "--methods", "fine-tune,scratch", "--pairs", "uci-digits->uci-digits-rotated",
        "--settings", "supervised", *TINY[:-2], "--seeds", "0,1")


def _accuracies(results):
    records, problems = read_records(results)
    assert problems == []
    return {r.key: (r.status, r.metrics.top1 if r.metrics else None) for r in records}


def test_two_workers_record_what_one_records(cli, tmp_path):
    # One thread in each run on both sides: on CPU a sum rounds by how many threads share it
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli(*GRID, "--results", str(one), "--threads", "1").code == 0
    assert cli(*GRID, "--results", str(two), "--workers", "2", "--threads", "1").code == 0
    serial, parallel = _accuracies(one), _accuracies(two)
    assert len(serial) == 4 and all(status == "ok" for status, _ in serial.values())
    assert parallel == serial


def test_workers_must_be_a_positive_count(cli, tmp_path):
    result = cli(*GRID, "--results", str(tmp_path / "r"), "--workers", "0")
    assert result.code == 2 and "--workers must be at least 1" in result.err
    assert not (tmp_path / "r").exists()


def test_threads_must_be_a_positive_count(cli, tmp_path):
    result = cli(*GRID, "--results", str(tmp_path / "r"), "--threads", "0")
    assert result.code == 2 and "--threads must be at least 1, not 0" in result.err
    assert not (tmp_path / "r").exists()


def test_threads_names_the_thread_count_of_every_worker(cli, tmp_path):
    results = tmp_path / "results"
    assert cli(*GRID[:-2], "--seeds", "0", "--results", str(results), "--workers", "2", "--threads", "2").code == 0
    records, _ = read_records(results)
    assert len(records) == 2 and all(r.environment.device_name.endswith("(2 threads)") for r in records)


def test_two_workers_share_the_runs_of_one_source_model_and_train_it_once(cli, tmp_path, monkeypatch):
    # Regression: every run of one (pair, seed) went to one worker in turn, so a grid of one pair
    # and seed ran on one worker while the other idled.
    log = tmp_path / "log"
    monkeypatch.setenv("COUNTING_LOG", str(log))
    results = tmp_path / "results"
    result = cli("--plugin", "slow_steps", "--plugin", "counting", "run", "--methods", "slow-fine-tune,slow-scratch",
                 "--pairs", "uci-digits->uci-digits-rotated", "--settings", "few-shot,supervised", "--seeds", "0",
                 "--steps", "60", "--source-steps", "40", "--eval-points", "2", "--results", str(results),
                 "--workers", "2", cwd=PLUGIN_FIXTURES)
    assert result.code == 0, result.err
    records, _ = read_records(results)
    spans = [(r.started_at, r.finished_at) for r in records]
    assert len(records) == 4 and all(r.status == "ok" for r in records)
    assert any(a[0] < b[1] and b[0] < a[1] for a in spans for b in spans if a is not b), "runs overlapped"
    assert [line.split()[0] for line in log.read_text().splitlines()].count("source") == 1
