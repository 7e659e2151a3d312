"""Run records: stable keys, atomic files, a reader that survives corrupt files."""
from tlarena.records import RunRecord, load_results, read_records, write_record
from tlarena.spec import Budget, RunSpec


def _spec(seed=0, **budget):
    return RunSpec("fine-tune", "a->b", "lenet", "none", "supervised", seed, Budget(**budget),
                   (("lr", 0.01),))


def test_key_is_a_pure_function_of_the_spec():
    assert _spec().key == _spec().key
    assert len({_spec().key, _spec(seed=1).key, _spec(steps=5).key}) == 3


def test_record_round_trips_through_its_json_file(tmp_path):
    record = RunRecord(_spec(), "ok", metrics={"top1": 0.5}, cost={"train_seconds": 1.0})
    path = write_record(tmp_path, record)
    (loaded,), problems = read_records(tmp_path)
    assert path.name == f"{record.key}.json" and loaded == record and problems == []


def test_write_leaves_no_temporary_file(tmp_path):
    write_record(tmp_path, RunRecord(_spec(), "n/a", reason="because"))
    assert [p.name for p in tmp_path.iterdir()] == [f"{_spec().key}.json"]


def test_reader_names_and_skips_a_corrupt_file(tmp_path):
    write_record(tmp_path, RunRecord(_spec(), "ok", metrics={"top1": 0.5}))
    (tmp_path / "broken.json").write_text("{not json")
    frame, problems = load_results(tmp_path)
    assert len(frame) == 1 and len(problems) == 1 and "broken.json" in problems[0]
