"""The MLflow and W&B reporters: a finished run's spec, metrics, cost and learning curve, logged to
a real local store. Each is an optional extra; its tests skip where it is not installed."""
import importlib.util
import json
from pathlib import Path

import pytest
from conftest import ROOT

from tlarena.records import RunRecord


def shipped_record(method: str = "coral-linear") -> RunRecord:
    """A real record of the default suite: ok, with a source model and a learning curve."""
    for path in sorted((ROOT / "results").glob("*.json")):
        data = json.loads(path.read_text())
        if data["status"] == "ok" and data["spec"]["method"] == method:
            return RunRecord.from_dict(data)
    raise LookupError(method)


def needs(package: str):
    return pytest.mark.skipif(importlib.util.find_spec(package) is None,
                              reason=f"{package} is not installed (pip install 'tlarena[{package}]')")


@needs("mlflow")
def test_the_mlflow_reporter_logs_spec_metrics_cost_and_curve_to_a_file_store(tmp_path, monkeypatch):
    import mlflow

    from tlarena.reporters import mlflow_reporter

    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")   # MLflow 3.7+ asks for this opt-in
    record = shipped_record()

    mlflow_reporter.run_finished(record)

    client = mlflow.MlflowClient()
    [run] = client.search_runs([client.get_experiment_by_name("tlarena").experiment_id])
    history = client.get_metric_history(run.info.run_id, "curve.top1")
    assert (run.data.params["method"], run.data.params["budget.steps"], run.data.tags["tlarena.status"],
            run.data.metrics["metrics.top1"], run.data.metrics["cost.train_flops"],
            [(m.step, m.value) for m in history]) == (
        "coral-linear", str(record.spec.budget.steps), "ok", record.metrics.top1, record.cost.train_flops,
        [(p.step, p.top1) for p in record.curve])


@needs("wandb")
def test_the_wandb_reporter_writes_an_offline_run_with_config_summary_and_curve(tmp_path, monkeypatch):
    from tlarena.reporters import wandb_reporter

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    record = shipped_record()

    wandb_reporter.run_finished(record)

    [path] = Path(tmp_path).glob("wandb/offline-run-*/run-*.wandb")
    written = _offline_run(path)
    assert (written["config"]["method"], written["summary"]["metrics.top1"],
            written["summary"]["cost.train_flops"], written["curve"]) == (
        "coral-linear", record.metrics.top1, record.cost.train_flops, [(p.step, p.top1) for p in record.curve])


def _offline_run(path: Path) -> dict:
    """What an offline W&B run file holds: its config, its last summary values and its curve.
    The file is a LevelDB-style log (32 KiB blocks of checksum, length, type, data) of protobuf
    records, after a 7-byte header; wandb has no public reader for it."""
    import struct

    from wandb.proto import wandb_internal_pb2

    data, position, chunk = path.read_bytes(), 7, b""
    written: dict = {"config": {}, "summary": {}, "curve": []}
    while position + 7 <= len(data):
        if 32768 - position % 32768 < 7:      # a block's tail too short for a header is padding
            position += 32768 - position % 32768
            continue
        _, length, kind = struct.unpack("<IHB", data[position:position + 7])
        chunk += data[position + 7:position + 7 + length]
        position += 7 + length
        if kind not in (1, 4):                # 1 full, 4 last: a record is complete
            continue
        item = wandb_internal_pb2.Record()
        item.ParseFromString(chunk)
        chunk = b""
        if item.HasField("run"):
            written["config"].update(_items(item.run.config.update))
        elif item.HasField("summary"):
            written["summary"].update(_items(item.summary.update))
        elif item.HasField("history"):
            values = _items(item.history.item)
            written["curve"].append((values["step"], values["curve.top1"]))
    return written


def _items(items) -> dict:
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


def test_an_unknown_reporter_is_refused_before_any_run(cli, tmp_path):
    result = cli("run", "--all", "--report", "mlfow", "--results", str(tmp_path / "results"))
    assert (result.code, result.err.strip()) == (
        2, "tlarena: error: unknown reporter 'mlfow'; choose from mlflow, wandb")


def test_a_reporter_whose_package_is_missing_says_which_extra_installs_it(cli, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    result = cli("run", "--all", "--report", "wandb", "--results", str(tmp_path / "results"))
    assert result.code == 2 and "pip install 'tlarena[wandb]'" in result.err
