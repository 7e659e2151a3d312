"""What makes a number trustworthy: labeled target data never from the scored images, the source
model's accuracy measured where the record says, hyperparameters drawn and selected in the open,
and a protocol version that moves with the code that decides a number."""
import numpy as np
import pytest
from conftest import PLUGIN_FIXTURES
from fixtures_hub import write_hub_copy

from tlarena import protocol
from tlarena.data import SplitTensors
from tlarena.pairs import DomainPair, HubDataset
from tlarena.partition import Evaluation, cut, evaluation_for
from tlarena.records import read_records
from tlarena.settings import Setting

TINY = ["--steps", "4", "--source-steps", "30", "--eval-points", "1", "--seeds", "0", "--batch-size", "8"]
PACS = ("dog", "elephant", "giraffe", "guitar", "horse", "house", "person")


@pytest.fixture
def data_dir(offline, tmp_path):
    return tmp_path / "data"


def _one_split_domain(rows_per_class=10, classes=4):
    """A single-split side whose images are their own row ids, so parts can be told apart."""
    labels = np.repeat(np.arange(classes), rows_per_class)
    images = np.arange(len(labels), dtype=np.uint8)[:, None, None, None]
    return SplitTensors(images, labels.astype(np.int64), "fixture")


def _row_ids(tensors):
    return set() if tensors is None else set(tensors.images.ravel().tolist())


@pytest.mark.parametrize("setting", [Setting.FEW_SHOT, Setting.SUPERVISED])
def test_labeled_target_rows_are_never_the_scored_rows_of_a_single_split_domain(setting):
    side = HubDataset("one-split", "owner/one-split", tuple("abcd"), splits={"train": "train", "test": "train"})
    evaluation = evaluation_for(side, setting_has_labels=True, transductive_uda=True)
    parts = cut(DomainPair(side, side, "t"), setting, evaluation, 5, 0, lambda s, split: _one_split_domain())

    scored = _row_ids(parts.target_test)
    assert evaluation is Evaluation.HELD_OUT and len(scored) == 8   # 20 % of each of 4 classes of 10
    assert not scored & (_row_ids(parts.target_labeled) | _row_ids(parts.target_val))
    assert not _row_ids(parts.target_labeled) & _row_ids(parts.target_val)


def test_uda_on_a_single_split_domain_is_transductive_unless_asked_otherwise():
    side = HubDataset("one-split", "owner/one-split", tuple("abcd"), splits={"train": "train", "test": "train"})
    assert evaluation_for(side, False, transductive_uda=True) is Evaluation.TRANSDUCTIVE
    assert evaluation_for(side, False, transductive_uda=False) is Evaluation.HELD_OUT


def test_a_pacs_run_records_its_protocol_and_scores_on_held_out_images(cli, data_dir, tmp_path):
    domains = ["photo"] * 20 + ["sketch"] * 20
    write_hub_copy(data_dir, "flwrlabs/pacs", {"train": {"domain": domains, "label": [0, 1, 2, 3] * 10}})

    cli("--data-dir", str(data_dir), "run", "--methods", "fine-tune,source-only", "--pairs",
        "pacs-photo->pacs-sketch", "--settings", "supervised,uda", "--backbone", "lenet", "--results",
        str(tmp_path / "r"), *TINY)   # lenet: the suite's ImageNet ResNet-50 would download its weights

    records = {r.spec.setting: r for r in read_records(tmp_path / "r")[0] if r.status == "ok"}
    supervised = {d.part: d.rows for d in records["supervised"].data if d.side == "target"}
    assert records["supervised"].spec.evaluation == "held-out" and records["uda"].spec.evaluation == "transductive"
    assert supervised == {"unlabeled": 16, "labeled": 12, "val": 4, "test": 4}


def test_the_source_models_accuracy_is_measured_on_the_records_own_source_test_split(cli, data_dir, tmp_path):
    # Both sources train on all of train; head tests on 4 rows the model trained on, tail on rows
    # labelled 9, a class absent from training: whichever pair runs first, tail must score 0.
    write_hub_copy(data_dir, "ylecun/mnist", {"train": {"label": [0, 1, 2, 3] * 10},
                                               "test": {"label": [0, 1, 2, 3, 9, 9, 9, 9]}})
    write_hub_copy(data_dir, "flwrlabs/usps", {"train": {"label": [0, 1, 2, 3] * 3}, "test": {"label": [0, 1]}})

    cli("--plugin", "same_source_two_tests", "--data-dir", str(data_dir), "run", "--methods", "source-only",
        "--pairs", "mnist-test-head->usps-tiny,mnist-test-tail->usps-tiny", "--settings", "uda",
        "--results", str(tmp_path / "r"), *TINY, cwd=PLUGIN_FIXTURES)

    source_top1 = {r.spec.pair: r.shared_cost.source_test_top1 for r in read_records(tmp_path / "r")[0]}
    assert source_top1["mnist-test-tail->usps-tiny"] == 0.0
    assert source_top1["mnist-test-head->usps-tiny"] > 0.0


def test_hparam_samples_draw_configurations_apart_from_the_trial_seed(cli, tmp_path):
    cli("run", "--methods", "fine-tune", "--pairs", "uci-digits->synth-letters", "--hparam-samples", "3",
        "--seeds", "0,1", "--steps", "2", "--source-steps", "2", "--eval-points", "1",
        "--results", str(tmp_path))

    records = read_records(tmp_path)[0]
    by_config = {}
    for r in records:
        by_config.setdefault(r.spec.hparams_seed, set()).add(dict(r.spec.hparams)["lr"])
    assert sorted(by_config) == [0, 1, 2] and all(len(lrs) == 1 for lrs in by_config.values())
    assert by_config[0] == {0.01} and len(set.union(*by_config.values())) == 3


def test_the_grid_line_counts_the_configurations_it_draws(cli, tmp_path):
    result = cli("run", "--methods", "fine-tune", "--pairs", "uci-digits->synth-letters", "--hparam-samples", "3",
                 "--seeds", "0,1", "--dry-run", "--results", str(tmp_path))

    assert "tlarena: 6 runs (1 method × 1 pair × each pair's settings × 2 seeds × up to 3 configurations)" in result.out


def test_hp_sets_one_hyperparameter_by_hand(cli, tmp_path):
    cli("run", "--methods", "fine-tune", "--pairs", "uci-digits->synth-letters", "--hp", "fine-tune.lr=0.003",
        "--steps", "2", "--source-steps", "2", "--eval-points", "1", "--seeds", "0", "--results", str(tmp_path))
    (record,) = read_records(tmp_path)[0]
    assert dict(record.spec.hparams) == {"lr": 0.003, "weight_decay": 0.0005}


@pytest.mark.parametrize("value, message", [("fine-tune.lrr=1", "unknown hyperparameter of fine-tune 'lrr'"),
                                            ("fine-tune=1", "--hp takes METHOD.NAME=VALUE"),
                                            ("scratch.lr=1", "method 'scratch' is not in this grid")])
def test_a_bad_hp_is_one_line_and_exit_2(cli, tmp_path, value, message):
    result = cli("run", "--methods", "fine-tune", "--pairs", "uci-digits->synth-letters", "--hp", value,
                 "--results", str(tmp_path))
    assert result.code == 2 and message in result.err and not tmp_path.exists() or not any(tmp_path.iterdir())


def test_a_categorical_hp_outside_its_choices_is_refused_before_any_run(cli, tmp_path):
    result = cli("run", "--methods", "importance-weighting", "--pairs", "uci-digits->synth-digits", "--hp",
                 "importance-weighting.ratio_on=pixels", "--results", str(tmp_path))
    assert result.code == 2 and "importance-weighting's ratio_on is one of posteriors, features" in result.err
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_every_record_scores_every_selection_rule_that_applies(cli, tmp_path):
    cli("run", "--methods", "fine-tune,source-only", "--pairs", "uci-digits->uci-digits-rotated",
        "--settings", "few-shot,uda", *TINY, "--results", str(tmp_path))
    records = {r.spec.setting: r for r in read_records(tmp_path)[0] if r.status == "ok"}
    few, uda = records["few-shot"].validation, records["uda"].validation
    assert None not in (few.source_val_top1, few.target_val_top1, few.im, few.snd)
    assert uda.target_val_top1 is None and uda.source_val_top1 is not None


def test_the_protocol_fingerprint_matches_the_code_that_decides_a_number():
    assert protocol.fingerprint() == protocol.FINGERPRINT, (
        "code or a constant that decides a number changed: bump PROTOCOL in tlarena/protocol.py, set "
        f"FINGERPRINT = {protocol.fingerprint()!r}, and regenerate results/ "
        "(`tlarena run --all --rerun` from a committed, clean tree)")


def test_the_fingerprint_moves_when_a_deciding_constant_does(monkeypatch):
    from tlarena import trainer

    before = protocol.fingerprint()
    monkeypatch.setattr(trainer, "CLIP_NORM", trainer.CLIP_NORM * 2)
    assert protocol.fingerprint() != before


def test_a_cached_source_model_is_not_reused_by_code_with_another_fingerprint(monkeypatch):
    # Regression: the cache key held the protocol number only, so a source model trained by a
    # development tree of the same protocol was reused and a record did not reproduce.
    from tlarena import source_models

    key = source_models.SourceModelKey("hub:a", "data", "lenet", "none", 0, 500, 32, "none")
    before = key.digest
    monkeypatch.setattr(source_models, "FINGERPRINT", "0" * 16)
    assert key.digest != before
