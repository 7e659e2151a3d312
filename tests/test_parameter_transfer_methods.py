"""LP-FT, L2-SP, partial fine-tuning and BitFit: which parameters each trains, the L2-SP penalty,
that each learns on an embedded pair from the shared source model, and how `tlarena list methods`
shows them.

Each also passes the conformance kit: tests/test_conformance.py runs it over every registered method.
"""
import inspect
from pathlib import Path

import pytest
import timm
import torch

import tlarena_plugins.backbones  # noqa: F401  registers lenet in timm
from tlarena import Batch, Setting
from tlarena.grid import grid
from tlarena.methods import Network, Progress
from tlarena.optimizers import build_optimizers
from tlarena.parameter_transfer import StartingPoint, bias_parameters, frozen_features, last_stages, stages
from tlarena.plugins import load_arena
from tlarena.runner import Runner
from tlarena.spec import Budget
from tlarena_plugins.methods.bitfit import BitFit
from tlarena_plugins.methods.l2_sp import L2SP
from tlarena_plugins.methods.lp_ft import LPFT
from tlarena_plugins.methods.partial_fine_tune import PartialFineTune

from conftest import table_rows

METHODS = ["lp-ft", "l2-sp", "partial-fine-tune", "bitfit"]
PAIR = "synth-digits->synth-digits-colour"
CHANCE = 0.1   # 10 classes


def _lenet(source_classes=("0",) * 10) -> Network:
    torch.manual_seed(0)
    return Network(timm.create_model("lenet", num_classes=10), source_classes)


def _train(method, steps: int = 3, start: int = 0) -> dict[str, torch.Tensor]:
    """``steps`` harness optimizer steps on random images; the parameters before them, by name."""
    before = {name: p.detach().clone() for name, p in method.network.named_parameters()}
    (plan,) = build_optimizers(method, start + steps, scaled=False)
    generator = torch.Generator().manual_seed(1)
    method.train()
    for step in range(start + 1, start + steps + 1):
        images, labels = torch.randn(8, 3, 32, 32, generator=generator), torch.randint(0, 10, (8,), generator=generator)
        method.progress = Progress(step, start + steps)
        plan.optimizer.zero_grad(set_to_none=True)
        method.training_step(Batch(target=(images, labels))).backward()
        plan.optimizer.step()
    return before


def _changed(method, before) -> set[str]:
    return {name for name, p in method.network.named_parameters() if not torch.equal(p, before[name])}


def test_lenet_stages_are_its_two_convolutions_and_its_fully_connected_layer_and_resnet_has_four():
    assert stages(_lenet().model) == ["features.0", "features.3", "neck.1"]
    assert stages(timm.create_model("resnet18", num_classes=10)) == ["layer1", "layer2", "layer3", "layer4"]


def test_the_last_stage_of_lenet_is_its_fully_connected_layer_with_the_head_and_zero_is_the_head():
    network = _lenet()
    named = {id(p): name for name, p in network.named_parameters()}
    assert [named[id(p)] for p in last_stages(network, 1)] == ["model.neck.1.weight", "model.neck.1.bias",
                                                                "model.head.weight", "model.head.bias"]
    assert [named[id(p)] for p in last_stages(network, 0)] == ["model.head.weight", "model.head.bias"]
    assert len(last_stages(network, 3)) == len(list(network.parameters()))


def test_bias_parameters_are_every_bias_and_the_head_and_no_other_weight():
    network = _lenet()
    named = {id(p): name for name, p in network.named_parameters()}
    assert sorted(named[id(p)] for p in bias_parameters(network)) == sorted(
        ["model.features.0.bias", "model.features.3.bias", "model.neck.1.bias", "model.head.weight",
         "model.head.bias"])


def test_bitfit_moves_only_biases_and_the_head():
    method = BitFit(_lenet(), 10, dict(BitFit.hparams))
    before = _train(method)
    assert _changed(method, before) == {"model.features.0.bias", "model.features.3.bias", "model.neck.1.bias",
                                        "model.head.weight", "model.head.bias"}


def test_partial_fine_tuning_moves_only_the_last_stage_and_the_head():
    method = PartialFineTune(_lenet(), 10, dict(PartialFineTune.hparams))
    before = _train(method)
    assert _changed(method, before) == {"model.neck.1.weight", "model.neck.1.bias", "model.head.weight",
                                        "model.head.bias"}


def test_lp_ft_moves_only_the_head_while_probing_then_every_layer():
    probing = LPFT(_lenet(), 10, {**LPFT.hparams, "probe_fraction": 1.0})   # every step probes
    before = _train(probing, steps=3)
    assert _changed(probing, before) == {"model.head.weight", "model.head.bias"}
    tuning = LPFT(_lenet(), 10, dict(LPFT.hparams))   # one step of a 1-step budget: p = 1 > ½
    before = _train(tuning, steps=1)
    assert _changed(tuning, before) == {name for name, _ in tuning.network.named_parameters()}


def test_frozen_features_run_in_eval_mode_without_gradient_and_give_the_mode_back():
    network = _lenet()
    network.train()
    images = torch.randn(4, 3, 32, 32)
    features = frozen_features(network, images)
    network.eval()
    assert torch.equal(features, network.features(images)) and not features.requires_grad
    network.train()
    frozen_features(network, images)
    assert network.training


def test_the_starting_point_penalty_is_0_at_the_start_and_the_squared_distance_after_a_move():
    layer = torch.nn.Linear(3, 2)
    penalty = StartingPoint(dict(layer.named_parameters()))
    assert penalty() == 0
    with torch.no_grad():
        layer.weight += 0.5
    assert penalty().item() == pytest.approx(6 * 0.25)


def test_l2_sp_anchors_copied_weights_and_decays_a_fresh_head_toward_zero():
    kept = L2SP(_lenet(), 10, dict(L2SP.hparams))
    copied, new = kept.parameter_groups()
    assert len(copied["params"]) == len(list(kept.network.parameters())) and new["params"] == []
    fresh = L2SP(_lenet(source_classes=None), 10, dict(L2SP.hparams))
    copied, new = fresh.parameter_groups()
    assert new["params"] == list(fresh.network.head.parameters()) and new["weight_decay"] == L2SP.hparams["beta"]
    assert copied["weight_decay"] == 0.0 and len(copied["params"]) == len(list(fresh.network.parameters())) - 2


def test_a_strong_l2_sp_keeps_the_weights_nearer_the_source_than_fine_tuning_does():
    def distance(alpha):
        method = L2SP(_lenet(), 10, {**L2SP.hparams, "alpha": alpha, "lr": 0.05})
        before = _train(method, steps=20)
        return sum(((p - before[n]) ** 2).sum() for n, p in method.network.named_parameters()).item()
    assert distance(5.0) < 0.5 * distance(0.0)


@pytest.fixture(scope="module")
def records():
    """Each method in few-shot on one embedded pair, from one shared source model, with fine-tune
    beside them."""
    arena = load_arena()
    runner = Runner(arena, torch.device("cpu"))
    budget = Budget(steps=100, source_steps=300, eval_points=1)
    specs = grid(arena, METHODS + ["fine-tune"], [PAIR], "lenet", "none", [0], budget, [Setting.FEW_SHOT])
    return {spec.method: runner.execute(spec) for spec in specs}


@pytest.mark.parametrize("name", METHODS)
def test_each_method_learns_the_target_well_above_chance(records, name):
    record = records[name]
    assert record.status == "ok", record.traceback
    assert record.metrics.top1 > 3 * CHANCE


def test_bitfit_and_partial_fine_tuning_train_fewer_parameters_than_fine_tuning(records):
    full = records["fine-tune"].cost.trainable_params
    assert records["bitfit"].cost.trainable_params < 0.05 * full
    assert records["partial-fine-tune"].cost.trainable_params < full
    assert records["lp-ft"].cost.trainable_params == records["l2-sp"].cost.trainable_params == full


def test_list_methods_shows_each_method_with_family_and_paper(cli):
    out = cli("list", "methods").out
    rows = table_rows(out)
    assert all(name in rows for name in METHODS)
    assert "Kumar et al." in rows["lp-ft"] and "Ben Zaken" in rows["bitfit"]


def test_the_method_files_stay_under_150_lines_and_state_paper_equation_and_deviations():
    arena = load_arena()
    for name in METHODS:
        method = arena.methods.get(name)
        module = __import__(method.__module__, fromlist=["_"])
        doc = inspect.getdoc(method)
        assert len(Path(module.__file__).read_text().splitlines()) < 150
        assert method.family == "parameter transfer" and method.settings == {
            Setting.FEW_SHOT, Setting.SUPERVISED, Setting.TASK}
        assert "Paper:" in doc and "Deviation" in doc and "L =" in doc
