"""Run records: stable keys, typed blocks, atomic files, a reader that survives corrupt files."""
import json

from tlarena.metrics import CurvePoint
from tlarena.records import (SCHEMA, Metrics, RunRecord, Validation, load_results, read_records, recorded_keys,
                             write_record)
from tlarena.spec import Budget, RunSpec


def _spec(seed=0, protocol=None, **budget):
    extra = {} if protocol is None else {"protocol": protocol}
    return RunSpec("fine-tune", "a->b", "lenet", "none", "supervised", seed, Budget(**budget),
                   (("lr", 0.01),), **extra)


def _ok(spec, top1=0.5):
    return RunRecord(spec, "ok", metrics=Metrics(top1, top1, 10, 320, 1.0, 1e6, top1),
                     validation=Validation(source_val_top1=0.9), curve=[CurvePoint(0, 0, 0.0, 0.0, 0.1, 0.1)])


def test_key_is_a_pure_function_of_the_spec():
    assert _spec().key == _spec().key
    assert len({_spec().key, _spec(seed=1).key, _spec(steps=5).key}) == 3


def test_a_cell_is_everything_but_the_seed():
    assert _spec(seed=0).cell == _spec(seed=1).cell
    assert len({_spec().cell, _spec(steps=5).cell, _spec(shots=10).cell}) == 3


def test_record_round_trips_through_its_json_file_as_typed_blocks(tmp_path):
    record = _ok(_spec())
    path = write_record(tmp_path, record)
    (loaded,), problems = read_records(tmp_path)
    assert path.name == f"{record.key}.json" and loaded == record and problems == []
    assert loaded.metrics.top1 == 0.5 and loaded.curve[0].top1 == 0.1


def test_write_leaves_no_temporary_file(tmp_path):
    write_record(tmp_path, RunRecord(_spec(), "n/a", reason="because"))
    assert [p.name for p in tmp_path.iterdir()] == [f"{_spec().key}.json"]


def test_reader_names_and_skips_a_corrupt_file(tmp_path):
    write_record(tmp_path, _ok(_spec()))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[1, 2, 3]")
    (tmp_path / "null.json").write_text("null")
    (tmp_path / "folder.json").mkdir()
    frame, problems = load_results(tmp_path)
    assert len(frame) == 1 and len(problems) == 4 and "broken.json" in problems[0]


def test_records_of_another_protocol_or_schema_are_kept_out_and_counted(tmp_path):
    write_record(tmp_path, _ok(_spec()))
    write_record(tmp_path, _ok(_spec(seed=1, protocol=1), top1=0.9))
    old_schema = {"schema": 1, "key": "0" * 20, "spec": {"method": "fine-tune"}, "status": "ok"}
    (tmp_path / f"{'0' * 20}.json").write_text(json.dumps(old_schema))
    records, notes = read_records(tmp_path)
    assert [r.metrics.top1 for r in records] == [0.5]
    assert any("1 records of protocol 1" in note for note in notes)
    assert any("1 records of an older schema" in note for note in notes)


def test_a_record_of_a_newer_schema_counts_as_done_so_it_is_never_overwritten(tmp_path):
    key = _spec().key
    (tmp_path / f"{key}.json").write_text(json.dumps({"schema": SCHEMA + 1, "key": key}))
    assert key in recorded_keys(tmp_path)
