"""`tlarena reproduce`: one recorded spec run again from nothing but its record gives the same numbers."""
import json

import torch

from conftest import PLUGIN_FIXTURES, TINY

from tlarena.environment import device_name
from tlarena.records import read_records


def test_a_record_reproduces_exactly_on_cpu_without_its_cached_source_model(cli, tmp_path, monkeypatch,
                                                                          isolated_cache):
    results = tmp_path / "results"
    cli("run", "--methods", "fine-tune", "--pairs", "uci-digits->uci-digits-rotated", "--settings", "few-shot",
        "--device", "cpu", "--results", str(results), *TINY)
    (record,) = read_records(results)[0]
    fresh = tmp_path / "fresh-cache"   # the decoded data is shared; the source model is trained again
    fresh.mkdir()
    for shared in ("datasets", "tensors"):
        (fresh / shared).symlink_to(isolated_cache / shared)
    monkeypatch.setenv("TLARENA_CACHE", str(fresh))

    result = cli("reproduce", record.key, "--results", str(results), "--device", "cpu")

    assert result.code == 0 and "identical" in result.out and "NO" not in result.out
    assert f"{record.metrics.top1}" in result.out


def test_a_record_reproduces_with_its_own_thread_count_and_a_note_when_made_on_other_hardware(cli, tmp_path):
    # Regression: on CPU a sum rounds by how many threads share it, and reproduce ran with this
    # process's threads; a record of a `--workers 2` grid (1 thread each) then differed on a CPU
    # whose kernels split sums by thread.
    results = tmp_path / "results"
    assert cli("run", "--methods", "fine-tune", "--pairs", "uci-digits->uci-digits-rotated", "--settings",
               "few-shot", "--device", "cpu", "--threads", "1", "--results", str(results), *TINY).code == 0
    (record,) = read_records(results)[0]
    threads = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        assert record.environment.device_name == device_name(torch.device("cpu"), 1)
        same = cli("reproduce", record.key, "--results", str(results), "--device", "cpu")
        assert torch.get_num_threads() == 3, "reproduce gives this process its thread count back"
        path = results / f"{record.key}.json"
        data = json.loads(path.read_text())
        data["environment"]["device_name"] = "CPU: Another CPU, AVX2 (1 threads)"
        path.write_text(json.dumps(data))
        other = cli("reproduce", record.key, "--results", str(results), "--device", "cpu")
    finally:
        torch.set_num_threads(threads)

    assert same.code == 0 and "identical" in same.out and "warning" not in same.err, same.out
    assert f"on {record.environment.device_name}" in same.out
    assert "recorded on CPU: Another CPU, AVX2 (1 threads); this is CPU: " in other.err
    assert "numbers may differ" in other.err


def test_a_changed_record_is_reported_as_differing(cli, tmp_path):
    results = tmp_path / "results"
    cli("run", "--methods", "source-only", "--pairs", "uci-digits->uci-digits-rotated", "--device", "cpu",
        "--results", str(results), *TINY)
    (record,) = [r for r in read_records(results)[0] if r.status == "ok"]
    path = results / f"{record.key}.json"
    data = json.loads(path.read_text())
    data["metrics"]["top1"] = 0.123
    path.write_text(json.dumps(data))

    result = cli("reproduce", str(path), "--device", "cpu")

    assert result.code == 1 and "0.123" in result.out and "differs" in result.out


def test_reproducing_an_unknown_key_is_one_line_and_exit_2(cli, tmp_path):
    result = cli("reproduce", "0123456789abcdef0123", "--results", str(tmp_path))
    assert result.code == 2 and "no record '0123456789abcdef0123'" in result.err


def test_a_record_of_a_method_no_plugin_here_registers_is_refused_with_what_to_load(cli, tmp_path):
    # Regression: it "reproduced" as a failed run, with no reason, and exit 1.
    results = tmp_path / "results"
    cli("--plugin", "faulty_methods", "run", "--methods", "raises-in-step", "--pairs", "uci-digits->uci-digits-rotated",
        "--settings", "supervised", "--results", str(results), *TINY, cwd=PLUGIN_FIXTURES)
    (record,) = read_records(results)[0]

    refused = cli("reproduce", record.key, "--results", str(results))
    again = cli("--plugin", "faulty_methods", "reproduce", record.key, "--results", str(results))

    assert refused.code == 2 and "unknown method 'raises-in-step'" in refused.err
    assert "load the plugin that registers it (--plugin MODULE, or install it)" in refused.err
    # loaded, it fails again as recorded, and says why
    assert again.code == 0 and "identical" in again.out
    assert "now failed: ValueError: training step exploded" in " ".join(again.out.split())
