"""The instance-transfer methods (importance weighting, importance resampling, TrAdaBoost): their
math against known answers, that each learns on an embedded pair, and where they apply.

Each also passes the conformance kit: tests/test_conformance.py runs it over every registered method.
"""
import inspect
import math
from pathlib import Path

import pytest
import torch

from tlarena import Setting
from tlarena.grid import grid
from tlarena.methods import Network, SourceImages, TargetImages
from tlarena.instance_transfer import (DensityRatioMethod, effective_sample_size, fit_domain_classifier, importance_weights, resample,
                                       round_beta, tradaboost_beta, tradaboost_update, weighted_vote)
from tlarena.plugins import load_arena
from tlarena.runner import Runner
from tlarena.spec import Budget

from conftest import IdentityTrunk

METHODS = {"importance-weighting": {Setting.UDA}, "importance-resampling": {Setting.UDA},
           "tradaboost": {Setting.FEW_SHOT, Setting.SUPERVISED}}
CHANCE = 0.1   # 10 classes


def _gaussian(rows: int, dim: int, seed: int) -> torch.Tensor:
    return torch.randn(rows, dim, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shift", [[1.0], [1.0, -0.5]])
def test_the_domain_classifier_recovers_the_density_ratio_of_a_gaussian_shift(shift):
    # p_S = N(0, I), p_T = N(μ, I): p_T(x) / p_S(x) = exp(μᵀx − ‖μ‖² / 2), exactly a logistic model.
    # Unequal sample sizes: the estimate must divide the domain priors out.
    mu = torch.tensor(shift)
    source, target = _gaussian(6000, len(shift), 0), _gaussian(3000, len(shift), 1) + mu
    classifier = fit_domain_classifier(source, target, l2=1e-6)
    central = source[source.norm(dim=1) < 1.5]
    truth = torch.exp(central @ mu - mu.dot(mu) / 2)
    assert ((classifier.density_ratio(central) - truth).abs() / truth).max() < 0.15


def test_the_domain_classifier_finds_no_shift_between_samples_of_one_distribution():
    classifier = fit_domain_classifier(_gaussian(3000, 4, 0), _gaussian(1000, 4, 1), l2=1e-6)
    ratio = classifier.density_ratio(_gaussian(500, 4, 2))
    assert (ratio - 1).abs().max() < 0.3


def test_importance_weights_average_1_are_capped_and_flatten_to_uniform():
    ratio = torch.tensor([0.01, 0.5, 1.0, 2.0, 100.0])
    weights = importance_weights(ratio)
    assert torch.isclose(weights.mean(), torch.tensor(1.0)) and torch.allclose(weights / weights[2], ratio, rtol=1e-5)
    clipped = importance_weights(ratio, clip=2.0)
    assert torch.isclose(clipped.mean(), torch.tensor(1.0)) and clipped.max() == pytest.approx(2.0)
    assert torch.allclose(clipped[:4] / clipped[2], ratio[:4], rtol=1e-5)   # the others keep their ratios
    assert torch.allclose(importance_weights(ratio, flattening=0.0), torch.ones(5))
    assert effective_sample_size(clipped) > effective_sample_size(weights)


def test_resampling_draws_each_row_in_proportion_to_its_weight():
    weights = torch.tensor([1.0, 2.0, 3.0, 4.0, 0.0])
    rows = resample(weights, 200_000, torch.Generator().manual_seed(0))
    frequencies = torch.bincount(rows, minlength=5).float() / len(rows)
    assert torch.allclose(frequencies, weights / weights.sum(), atol=0.005) and frequencies[4] == 0


def _label_and_style_shift(seed: int):
    """Two classes told apart by column 0 (±2); column 1 is style, N(0, 1) in the source and N(5, 1) in
    the target, so a domain classifier on the features separates the domains almost perfectly. The
    source is balanced, the target 90 % class 0: the label-shift ratio is 1.8 for class 0, 0.2 for 1."""
    g = torch.Generator().manual_seed(seed)

    def domain(counts, style):
        labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
        rows = torch.stack([4.0 * labels - 2 + torch.randn(len(labels), generator=g),
                            style + torch.randn(len(labels), generator=g)], 1)
        return rows, labels

    return domain((1000, 1000), 0.0), domain((900, 100), 5.0)


def _weights_after_the_phase(ratio_on: str) -> tuple[torch.Tensor, torch.Tensor]:
    (source, labels), (target, _) = _label_and_style_shift(0)
    head = torch.nn.Linear(2, 2)
    with torch.no_grad():       # the Bayes classifier of the balanced source: style plays no part
        head.weight.copy_(torch.tensor([[-2.0, 0.0], [2.0, 0.0]]))
        head.bias.zero_()
    method = DensityRatioMethod(Network(IdentityTrunk(head)), 2, {**DensityRatioMethod.hparams, "ratio_on": ratio_on})
    batches = lambda size: ((source[i:i + size], labels[i:i + size]) for i in range(0, len(source), size))
    with torch.no_grad():       # as the harness runs a phase
        method.phase(TargetImages(len(target), lambda size: (target[i:i + size] for i in range(0, len(target), size))),
                     SourceImages(len(source), batches))
    return method.source_weights, method.source_labels


def test_on_posteriors_the_weights_recover_a_label_shift_that_style_hides_from_features():
    weights, labels = _weights_after_the_phase(DensityRatioMethod.hparams["ratio_on"])
    assert DensityRatioMethod.hparams["ratio_on"] == "posteriors"
    class_means = torch.stack([weights[labels == c].mean() for c in (0, 1)])
    assert torch.allclose(class_means, torch.tensor([1.8, 0.2]), atol=0.15)
    assert effective_sample_size(weights) > 0.5 * len(weights)
    # on the features the style takes the weight: capped, it leaves the classes' ratio far from 9 : 1
    on_features, _ = _weights_after_the_phase("features")
    assert on_features[labels == 0].mean() < 1.5 and effective_sample_size(on_features) < 0.4 * len(on_features)


def test_an_unknown_ratio_input_is_refused_when_the_method_is_built():
    head = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="ratio_on must be one of posteriors, features"):
        DensityRatioMethod(Network(IdentityTrunk(head)), 2, {**DensityRatioMethod.hparams, "ratio_on": "pixels"})


def test_tradaboost_beta_is_the_papers_formula():
    assert tradaboost_beta(100, 10) == pytest.approx(1 / (1 + math.sqrt(2 * math.log(100) / 10)))
    assert 0 < tradaboost_beta(5000, 10) < tradaboost_beta(5000, 100) < 1


def test_a_tradaboost_round_fades_wrong_source_rows_and_boosts_wrong_target_rows():
    wrong_source, wrong_target = torch.tensor([True, False, True, False]), torch.tensor([True, False, False, False])
    source, target, beta_t = tradaboost_update(torch.ones(4), wrong_source, torch.ones(4), wrong_target, beta=0.5)
    assert beta_t == pytest.approx(0.25 / 0.75)                     # ε_t = 1/4 on the target
    unscaled = torch.tensor([0.5, 1.0, 0.5, 1.0, 3.0, 1.0, 1.0, 1.0])   # β for wrong source, 1/β_t for wrong target
    assert torch.allclose(torch.cat([source, target]), unscaled * 8 / unscaled.sum())


def test_a_round_worse_than_chance_keeps_a_vote_below_the_others():
    weights = torch.ones(4)
    assert round_beta(weights, torch.tensor([True, True, True, False])) == pytest.approx(0.499 / 0.501)
    assert round_beta(weights, torch.zeros(4, dtype=torch.bool)) == pytest.approx(0.001 / 0.999)


def test_the_vote_weighs_each_round_by_log_1_over_beta():
    predictions = torch.tensor([[0, 1], [1, 1], [1, 0]])     # three rounds, two rows
    scores = weighted_vote(predictions, [0.1, 0.5, 0.5], num_classes=2)
    assert torch.allclose(scores, torch.tensor([[math.log(10), 2 * math.log(2)],
                                                [math.log(2), math.log(10) + math.log(2)]]))
    assert scores.argmax(1).tolist() == [0, 1]


def test_each_method_runs_in_its_settings_in_the_instance_transfer_family():
    arena = load_arena()
    for name, settings in METHODS.items():
        method = arena.methods.get(name)
        assert method.settings == settings and method.family == "instance transfer"


@pytest.fixture(scope="module")
def records():
    """Each method once on one embedded pair at a small budget, from one shared source model."""
    arena = load_arena()
    budget = Budget(steps=100, source_steps=300, eval_points=1)
    runner = Runner(arena, torch.device("cpu"))
    found = {}
    for names, setting in ((["source-only", "importance-weighting", "importance-resampling"], Setting.UDA),
                           (["tradaboost"], Setting.FEW_SHOT)):
        for spec in grid(arena, names, ["synth-digits->uci-digits"], "lenet", "none", [0], budget, [setting]):
            found[spec.method] = runner.execute(spec)
    return found


@pytest.mark.parametrize("name", list(METHODS))
def test_each_method_learns_the_target_well_above_chance(records, name):
    record = records[name]
    assert record.status == "ok", record.traceback
    assert record.metrics.top1 > 3 * CHANCE


@pytest.mark.parametrize("name", ["importance-weighting", "importance-resampling", "tradaboost"])
def test_before_step_1_each_method_is_the_source_model(records, name):
    assert records[name].curve[0].top1 == pytest.approx(records["source-only"].metrics.top1)


def test_the_method_files_stay_under_150_lines_and_state_paper_equation_and_deviations():
    arena = load_arena()
    for name in METHODS:
        module = __import__(arena.methods.get(name).__module__, fromlist=["_"])
        doc = inspect.getdoc(arena.methods.get(name))
        assert len(Path(module.__file__).read_text().splitlines()) < 150
        assert "Paper:" in doc and "Deviation" in doc and "Paper defaults" in doc and "=" in doc
