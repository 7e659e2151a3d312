"""The domain-adaptation methods: their shared pieces against known answers, that each learns on an
embedded pair in uda, where they apply, and how `tlarena list methods` shows them.

Each also passes the conformance kit: tests/test_conformance.py runs it over every registered method.
"""
import inspect
import math
from pathlib import Path

import pytest
import torch

from tlarena import Setting
from tlarena.adaptation import (RandomMultilinearMap, batch_nuclear_norm, coral, entropy, entropy_weights, mk_mmd, multilinear_map,
                                reversal_schedule, reverse_gradient)
from tlarena.grid import grid, incompatibility
from tlarena.plugins import load_arena
from tlarena.runner import Runner
from tlarena.spec import Budget

from conftest import table_rows

DA_METHODS = ["dann", "cdan", "cdan-e", "mcc", "coral", "bnm", "dan"]
EMBEDDED_DA_PAIRS = ["synth-digits->synth-digits-colour", "synth-digits->uci-digits", "uci-digits->synth-digits",
                     "uci-digits->uci-digits-rotated"]
CHANCE = 0.1   # 10 classes


def test_gradient_reversal_is_the_identity_forward_and_flips_the_gradient_backward():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    y = reverse_gradient(x, 0.5)
    y.sum().backward()
    assert torch.equal(y, x) and torch.equal(x.grad, torch.tensor([-0.5, -0.5]))


def test_the_reversal_schedule_starts_at_0_and_ends_near_1():
    assert reversal_schedule(0.0) == 0.0 and 0.999 < reversal_schedule(1.0) < 1.0


def test_entropy_of_a_uniform_distribution_is_log_c_and_of_a_certain_one_is_0():
    probabilities = torch.tensor([[0.25] * 4, [1.0, 0.0, 0.0, 0.0]])
    assert torch.allclose(entropy(probabilities), torch.tensor([math.log(4), 0.0]))


def test_entropy_weights_favour_confident_rows_and_average_1():
    weights = entropy_weights(torch.tensor([[0.25] * 4, [1.0, 0.0, 0.0, 0.0]]))
    assert weights[1] > weights[0] and torch.isclose(weights.mean(), torch.tensor(1.0))


def test_the_batch_nuclear_norm_is_1_for_confident_diverse_predictions_and_less_for_collapsed_ones():
    diverse, collapsed = torch.eye(4), torch.tensor([[1.0, 0.0, 0.0, 0.0]] * 4)
    assert torch.isclose(batch_nuclear_norm(diverse), torch.tensor(1.0))
    assert torch.isclose(batch_nuclear_norm(collapsed), torch.tensor(0.5))


def test_coral_distance_is_0_for_identical_batches_and_positive_otherwise():
    generator = torch.Generator().manual_seed(0)
    source = torch.randn(64, 8, generator=generator)
    assert coral(source, source.clone()) == 0
    assert coral(source, 3 * torch.randn(64, 8, generator=generator)) > 0


def test_mk_mmd_is_near_0_for_one_distribution_and_larger_for_a_shifted_one():
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(2, 200, 16, generator=generator)
    same, shifted = mk_mmd(x, y), mk_mmd(x, y + 1.0)
    assert abs(same) < 0.02 and shifted > 10 * abs(same)


def test_the_multilinear_maps_give_one_row_per_example_of_the_papers_sizes():
    features, predictions = torch.randn(5, 500), torch.randn(5, 10).softmax(1)
    assert multilinear_map(features, predictions).shape == (5, 5000)
    assert RandomMultilinearMap(500, 10)(features, predictions).shape == (5, 1024)


def test_the_explicit_map_is_the_outer_product():
    features, predictions = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.25, 0.75]])
    assert torch.equal(multilinear_map(features, predictions), torch.tensor([[0.25, 0.5, 0.75, 1.5]]))


def test_every_da_method_runs_in_uda_on_every_embedded_da_pair_and_in_nothing_else():
    arena = load_arena()
    for name in DA_METHODS:
        method = arena.methods.get(name)
        assert method.settings == {Setting.UDA} and method.family == "domain adaptation"
        assert all(incompatibility(method, arena.pairs.get(pair), Setting.UDA) is None for pair in EMBEDDED_DA_PAIRS)
        assert incompatibility(method, arena.pairs.get("uci-digits->synth-letters"), Setting.TASK) is not None


@pytest.fixture(scope="module")
def uda_records():
    """Each method once on one embedded pair at a small budget, from one shared source model."""
    arena = load_arena()
    budget = Budget(steps=100, source_steps=300, eval_points=1)
    specs = grid(arena, DA_METHODS, ["synth-digits->synth-digits-colour"], "lenet", "none", [0], budget,
                 [Setting.UDA])
    runner = Runner(arena, torch.device("cpu"))
    return {spec.method: runner.execute(spec) for spec in specs}


@pytest.mark.parametrize("name", DA_METHODS)
def test_each_da_method_learns_the_target_well_above_chance(uda_records, name):
    record = uda_records[name]
    assert record.status == "ok", record.traceback
    assert record.metrics.top1 > 3 * CHANCE


def test_list_methods_shows_each_da_method_with_family_paper_and_hyperparameters(cli):
    out = cli("list", "methods").out
    rows = table_rows(out)
    assert all(name in rows and "domain adaptation" in rows[name] for name in DA_METHODS)
    assert "Ganin et al." in rows["dann"] and "temperature=2.5" in rows["mcc"]


def test_the_method_files_stay_under_150_lines_and_state_paper_equation_and_deviations():
    arena = load_arena()
    for name in DA_METHODS:
        module = __import__(arena.methods.get(name).__module__, fromlist=["_"])
        doc = inspect.getdoc(arena.methods.get(name))
        assert len(Path(module.__file__).read_text().splitlines()) < 150
        assert "Paper:" in doc and "Deviation" in doc and "L =" in doc
