"""Worker processes: side by side they record what one worker records, and every run exactly once."""
from conftest import TINY

from tlarena.records import read_records

GRID = ("run", "--methods", "fine-tune,scratch", "--pairs", "uci-digits->uci-digits-rotated",
        "--settings", "supervised", *TINY[:-2], "--seeds", "0,1")


def _accuracies(results):
    records, problems = read_records(results)
    assert problems == []
    return {r.key: (r.status, r.metrics.top1 if r.metrics else None) for r in records}


def test_two_workers_record_what_one_records(cli, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli(*GRID, "--results", str(one)).code == 0
    assert cli(*GRID, "--results", str(two), "--workers", "2").code == 0
    serial, parallel = _accuracies(one), _accuracies(two)
    assert len(serial) == 4 and all(status == "ok" for status, _ in serial.values())
    assert parallel == serial


def test_workers_must_be_a_positive_count(cli, tmp_path):
    result = cli(*GRID, "--results", str(tmp_path / "r"), "--workers", "0")
    assert result.code == 2 and "--workers must be at least 1" in result.err
    assert not (tmp_path / "r").exists()
