"""Task fusion, LwF and progressive networks: the math of each, that each learns a new label space
from the shared source model on an embedded pair, that LwF keeps more of the source task than
fine-tuning, that fine-tuning across label spaces starts from the source backbone, and how
`tlarena list methods` shows them.

Each also passes the conformance kit: tests/test_conformance.py runs it over every registered method.
"""
import inspect
from pathlib import Path

import pytest
import timm
import torch
import torch.nn.functional as F

import tlarena.runner
import tlarena_plugins.backbones  # noqa: F401  registers lenet in timm
from tlarena import Batch, Setting
from tlarena.backbones import create_model
from tlarena.grid import grid
from tlarena.methods import Network, Progress
from tlarena.models import Preprocessing, build_method, resolve_backbone
from tlarena.optimizers import build_optimizers
from tlarena.plugins import load_arena
from tlarena.runner import Runner
from tlarena.spec import Budget
from tlarena.task_transfer import Laterals, distillation
from tlarena.testing import _PAIRS
from tlarena.trainer import Trainer
from tlarena_plugins.methods.lwf import LwF
from tlarena_plugins.methods.progressive_net import ProgressiveNet
from tlarena_plugins.methods.task_fusion import TaskFusion

from conftest import table_rows

METHODS = ["task-fusion", "lwf", "progressive-net"]
PAIR = "uci-digits->synth-letters"
# where fine-tuning forgets a part of the source task without collapsing: at 0.1 some seeds' runs
# fall to one class for every image, with either method
FORGETTING_LR, FORGETTING_STEPS = 0.05, 400
CHANCE = 0.1   # 10 letters
SOURCE_CLASSES = tuple(str(digit) for digit in range(10))
TARGET_CLASSES = 4


def _lenet(source_classes=SOURCE_CLASSES) -> Network:
    """A LeNet standing in for a source model: its head answers ``source_classes``."""
    torch.manual_seed(0)
    return Network(timm.create_model("lenet", num_classes=len(source_classes)), source_classes)


def _images(n: int = 8, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=generator), torch.randint(0, TARGET_CLASSES, (n,), generator=generator)


def _train(method, batches: list[Batch]) -> None:
    """One harness optimizer step per batch."""
    (plan,) = build_optimizers(method, len(batches), scaled=False)
    method.train()
    for step, batch in enumerate(batches, 1):
        method.progress = Progress(step, len(batches))
        plan.optimizer.zero_grad(set_to_none=True)
        method.training_step(batch).backward()
        plan.optimizer.step()


def _target_batch(seed: int = 1, rows=range(8)) -> Batch:
    return Batch(target=_images(len(rows), seed), rows={"target": torch.tensor(list(rows))})


def test_task_fusion_adds_the_source_loss_of_the_source_head_and_the_weighted_target_loss_of_the_new_head():
    method = TaskFusion(_lenet(), TARGET_CLASSES, {**TaskFusion.hparams, "target_weight": 0.5})
    (xs, ys), (xt, yt) = _images(seed=1), _images(seed=2)
    method.eval()   # no dropout; LeNet has no batch norm, so one pass over both batches equals two
    loss = method.training_step(Batch(source=(xs, ys), target=(xt, yt)))
    expected = (F.cross_entropy(method.network(xs), ys)
                + 0.5 * F.cross_entropy(method.target_head(method.network.features(xt)), yt))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    assert method.network.head.weight.grad.abs().sum() > 0 and method.target_head.weight.grad.abs().sum() > 0


def test_task_fusion_predicts_target_classes_with_the_new_head_and_keeps_the_source_head():
    network = _lenet()
    source_head = network.head.weight.detach().clone()
    method = TaskFusion(network, TARGET_CLASSES, dict(TaskFusion.hparams))
    assert method.predict(_images()[0]).shape == (8, TARGET_CLASSES)
    assert torch.equal(method.network.head.weight, source_head)


def test_distillation_is_the_soft_cross_entropy_at_temperature_t_and_is_flat_where_the_responses_agree():
    recorded = torch.tensor([[2.0, 0.0, -2.0]])
    logits = torch.tensor([[0.0, 1.0, 0.0]], requires_grad=True)
    soft = (recorded / 2).softmax(1)
    assert distillation(logits, recorded, 2.0).item() == pytest.approx(
        -(soft * (logits / 2).log_softmax(1)).sum().item())
    same = recorded.clone().requires_grad_(True)
    distillation(same, recorded, 2.0).backward()
    assert same.grad.abs().max() < 1e-6


def test_lwf_distils_toward_the_responses_of_the_network_before_training_which_stay_fixed():
    method = LwF(_lenet(), TARGET_CLASSES, {**LwF.hparams, "warmup_fraction": 0.0, "lr": 0.1})
    first, later = _target_batch(seed=1, rows=range(8)), _target_batch(seed=2, rows=range(8, 16))
    method.eval()   # the responses of the network as a predictor: no dropout
    with torch.no_grad():
        before = {"first": method.network(first.target[0]), "later": method.network(later.target[0])}
    _train(method, [first] * 5)
    _train(method, [later])   # rows first drawn after training began
    method.eval()
    with torch.no_grad():
        assert not torch.allclose(method.network(first.target[0]), before["first"], atol=1e-4)  # it did move
    assert torch.allclose(method.recorded.values[:8], before["first"], atol=1e-6)
    assert torch.allclose(method.recorded.values[8:16], before["later"], atol=1e-6)


def test_lwf_warm_up_trains_the_new_head_alone_then_every_part():
    method = LwF(_lenet(), TARGET_CLASSES, {**LwF.hparams, "warmup_fraction": 0.5})
    initial = {name: p.detach().clone() for name, p in method.named_parameters()}

    def moved():
        return {name for name, p in method.named_parameters() if not torch.equal(p, initial[name])}

    (plan,) = build_optimizers(method, 4, scaled=False)
    for step in (1, 2, 3):
        method.progress = Progress(step, 4)
        plan.optimizer.zero_grad(set_to_none=True)
        method.training_step(_target_batch(seed=step)).backward()
        plan.optimizer.step()
        if step == 2:   # p = ½: still warming up
            assert moved() == {"target_head.weight", "target_head.bias"}
    assert {"network.model.head.weight", "network.model.features.0.weight"} <= moved()


def _progressive() -> ProgressiveNet:
    """On a source LeNet whose head the harness replaced by a fresh one of the target's size."""
    network = _lenet()
    network.model.reset_classifier(TARGET_CLASSES)
    return ProgressiveNet(Network(network.model), TARGET_CLASSES, dict(ProgressiveNet.hparams))


def test_progressive_net_keeps_the_source_column_and_trains_a_new_column_from_random_weights():
    source = _lenet()
    method = _progressive()
    frozen = method.laterals.source.module
    assert torch.equal(frozen.features[0].weight, source.model.features[0].weight)
    assert not torch.equal(method.network.model.features[0].weight, source.model.features[0].weight)
    _train(method, [_target_batch(seed=s) for s in range(3)])
    assert all(torch.equal(p, source.model.state_dict()[name]) for name, p in frozen.state_dict().items()
               if not name.startswith("head"))
    assert all(adapter.weight.abs().sum() > 0 for adapter in method.laterals.adapters)


def test_progressive_net_feeds_the_source_column_into_each_stage_of_the_target_column():
    method = _progressive().eval()
    images = _images()[0]
    with torch.no_grad():
        alone = method.predict(images)
        method.laterals.source.module.features[0].weight.mul_(3)   # another source column
        assert torch.equal(method.predict(images), alone)         # zero laterals: not used yet
        for adapter in method.laterals.adapters:
            adapter.weight.copy_(0.1 * torch.eye(len(adapter.weight)))
        fed = method.predict(images)
        method.laterals.source.module.features[0].weight.div_(3)
        assert not torch.allclose(method.predict(images), fed)


def test_laterals_join_resnet_stages_with_one_by_one_convolutions_of_each_stage_width():
    model = timm.create_model("resnet18", num_classes=3)
    laterals = Laterals(source=model, target=model)
    assert laterals.stages == ["layer1", "layer2", "layer3", "layer4"]
    assert [adapter.weight.shape[0] for adapter in laterals.adapters] == [64, 128, 256, 512]
    assert laterals(torch.randn(2, 3, 64, 64)).shape == (2, 3)


def test_progressive_net_refuses_to_run_its_target_column_without_the_source_column():
    method = _progressive()
    with pytest.raises(RuntimeError, match="without its source column"):
        method.network(_images()[0])


def test_fine_tune_in_task_starts_from_the_source_backbone_with_a_fresh_head_of_the_target_size():
    arena = load_arena()
    pair = _PAIRS[1]   # 3 source classes, 2 target classes
    backbone = resolve_backbone(arena, "lenet", "none")
    torch.manual_seed(123)   # a source model no seed of build_method would draw
    state = create_model(backbone.model, len(pair.source.classes)).state_dict()
    method = build_method(arena.methods.get("fine-tune"), pair, backbone, 0, {"lr": 0.01}, state)
    model = method.network.model
    backbone_state = {k: v for k, v in model.state_dict().items() if not k.startswith("head.")}
    assert backbone_state and all(torch.equal(v, state[k]) for k, v in backbone_state.items())
    assert model.get_classifier().out_features == len(pair.target.classes) == 2
    assert method.network.source_classes is None


@pytest.fixture(scope="module")
def runs():
    """Each method and fine-tune in `task` on one embedded pair, from one shared source model; the
    trained method and the run's data parts are kept beside each record."""
    arena = load_arena()
    runner = Runner(arena, torch.device("cpu"))
    budget = Budget(steps=100, source_steps=300, eval_points=1)
    kept = {}
    original_build, original_cut = tlarena.runner.build_method, tlarena.runner.cut

    def build(method_cls, pair, backbone, seed, hparams, state):
        kept["method"], kept["source_state"] = original_build(method_cls, pair, backbone, seed, hparams, state), state
        return kept["method"]

    def cut(*args):
        kept["parts"] = original_cut(*args)
        return kept["parts"]

    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tlarena.runner, "build_method", build)
        patch.setattr(tlarena.runner, "cut", cut)
        for spec in grid(arena, METHODS, [PAIR], "lenet", "none", [0], budget, [Setting.TASK]):
            results[spec.method] = (runner.execute(spec), dict(kept))
        forgetting = Budget(steps=FORGETTING_STEPS, source_steps=300, eval_points=1)
        for spec in grid(arena, ["lwf", "fine-tune"], [PAIR], "lenet", "none", [0], forgetting, [Setting.TASK],
                         overrides={name: {"lr": FORGETTING_LR} for name in ("lwf", "fine-tune")}):
            results[f"{spec.method} at lr {FORGETTING_LR}"] = (runner.execute(spec), dict(kept))
    return results


@pytest.mark.parametrize("name", METHODS)
def test_each_method_learns_the_new_task_well_above_chance(runs, name):
    record, _ = runs[name]
    assert record.status == "ok", record.traceback
    assert record.metrics.top1 > 3 * CHANCE


class _SourceHead(torch.nn.Module):
    """The source task's classifier after a run: the trained features under a source head."""

    def __init__(self, network: Network, head: torch.nn.Module):
        super().__init__()
        self.network, self.head = network, head

    def predict(self, x):
        return self.head(self.network.features(x))


def test_lwf_keeps_more_of_the_source_task_than_fine_tuning(runs):
    """LwF's own source head, against fine-tuning's features under the source model's head (which
    fine-tuning replaced): each scored on the source test images, both at a rate that makes
    fine-tuning forget (at the default 0.01 and 100 steps it forgets under a point, too little to
    tell the two apart: measured 98.1 against LwF's 98.0 on one CPU, 1 point the other way on
    another). Measured at 0.05 and 400 steps on seeds 0, 1, 2: fine-tuning 84.9, 86.4, 86.6 %, LwF
    90.7, 92.3, 93.6 %, from source models at about 98 %."""
    accuracy = {}
    for name in ("lwf", "fine-tune"):
        _, kept = runs[f"{name} at lr {FORGETTING_LR}"]
        network, parts = kept["method"].network, kept["parts"]
        head = network.head
        if name == "fine-tune":
            head = torch.nn.Linear(network.feature_dim, 10)
            head.load_state_dict({"weight": kept["source_state"]["head.weight"],
                                  "bias": kept["source_state"]["head.bias"]})
        normalizer = Preprocessing.of(resolve_backbone(load_arena(), "lenet", "none"), 10).normalizer(
            torch.device("cpu"))
        accuracy[name] = Trainer(torch.device("cpu"), normalizer).evaluate(_SourceHead(network, head),
                                                                          parts.source_test)[0]
    source_model = runs["lwf"][0].shared_cost.source_test_top1
    assert accuracy["fine-tune"] < source_model - 0.05, ("fine-tuning forgets", accuracy, source_model)
    assert accuracy["lwf"] > accuracy["fine-tune"] + 0.03, (accuracy, source_model)


def test_list_methods_shows_each_method_with_family_and_paper(cli):
    rows = table_rows(cli("list", "methods").out)
    assert all(name in rows and "task transfer" in rows[name] for name in METHODS)
    assert "Caruana" in rows["task-fusion"] and "Li & Hoiem" in rows["lwf"] and "Rusu et al." in rows["progressive-net"]


def test_the_method_files_stay_under_150_lines_and_state_paper_equation_and_deviations():
    arena = load_arena()
    for name in METHODS:
        method = arena.methods.get(name)
        module = __import__(method.__module__, fromlist=["_"])
        doc = inspect.getdoc(method)
        assert len(Path(module.__file__).read_text().splitlines()) < 150
        assert method.family == "task transfer" and method.settings == {Setting.TASK}
        assert "Paper:" in doc and "Deviation" in doc and "L =" in doc
