"""The default suite's numbers make sense: a full `run --all` grid on one seed, at the default budget."""
import pytest

from tlarena.records import read_records

CHANCE = 0.1   # every embedded pair has 10 target classes


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from tlarena.cli import main

    results = tmp_path_factory.mktemp("embedded-results")
    assert main(["run", "--all", "--seeds", "0", "--results", str(results)]) == 0
    return read_records(results)[0]


def _top1(records, method, setting):
    return {r.spec.pair: r.metrics.top1 for r in records
            if r.spec.method == method and r.spec.setting == setting and r.status == "ok"}


@pytest.mark.slow
def test_every_valid_cell_is_ok_and_every_other_is_n_a_with_a_reason(records):
    assert {r.status for r in records} == {"ok", "n/a"}
    assert all(r.reason for r in records if r.status == "n/a")
    # 16 methods (4 parameter transfer + 7 domain adaptation + 5 self-training, source-free and
    # test-time) × (4 DA pairs × 5 settings (uda, few-shot, supervised, source-free, test-time) + 1 task pair)
    assert len(records) == 16 * (4 * 5 + 1)


@pytest.mark.slow
def test_every_method_beats_chance_clearly_on_every_pair(records):
    weak = [(r.spec.method, r.spec.pair, r.spec.setting, r.metrics.top1)
            for r in records if r.status == "ok" and r.metrics.top1 < 2 * CHANCE]
    assert weak == []


@pytest.mark.slow
def test_fine_tune_with_target_labels_beats_source_only_on_at_least_3_pairs(records):
    source_only, fine_tune = _top1(records, "source-only", "uda"), _top1(records, "fine-tune", "supervised")
    assert sum(fine_tune[pair] > source_only[pair] for pair in source_only) >= 3


@pytest.mark.slow
def test_scratch_loses_to_fine_tune_with_few_labels(records):
    """On average over the pairs, and on most pairs: where the source is as small as the target
    (uci-digits, 1,000 images), a 5-shot target can tie; see the README's results."""
    scratch, fine_tune = _top1(records, "scratch", "few-shot"), _top1(records, "fine-tune", "few-shot")
    wins = sum(scratch[pair] < fine_tune[pair] for pair in scratch)
    mean_gap = sum(fine_tune[pair] - scratch[pair] for pair in scratch) / len(scratch)
    assert len(scratch) == 4 and wins >= 3 and mean_gap > 0.05
