"""The method contract v2, unit by unit through the trainer with stub methods: progress, views and
the unlabeled ratio, phases, named updates, test-time adaptation, and the errors a plugin author gets."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import tlarena
import tlarena_plugins.backbones  # noqa: F401  registers lenet and dtn in timm
from tlarena import ContractError, Setting, Update
from tlarena.backbones import create_model
from tlarena.data import BatchStream, SplitTensors
from tlarena.optimizers import UnoptimizedParameters
from tlarena.trainer import Normalizer, Streams, Trainer

CPU = torch.device("cpu")


def _split(rows=24, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return SplitTensors(rng.integers(0, 256, (rows, 3, 32, 32), dtype=np.uint8),
                        np.arange(rows, dtype=np.int64) % classes, f"split-{seed}")


def _trainer():
    return Trainer(CPU, Normalizer((0.5,) * 3, (0.5,) * 3, CPU))


def _method(cls, model="lenet", hparams=None):
    return cls(tlarena.Network(create_model(model, 3)), 3, hparams or {"lr": 0.01})


def _streams(target=True, unlabeled=False, batch=4, views=None, ratio=1):
    return Streams(target=BatchStream(_split(), batch, 0, CPU) if target else None,
                   unlabeled=BatchStream(_split(seed=1), batch * ratio, 1, CPU, views=views) if unlabeled else None)


class _Supervised(tlarena.TransferMethod):
    name, family, paper = "stub", "parameter transfer", "none: a test stub"
    settings = frozenset({Setting.SUPERVISED})

    def training_step(self, batch):
        images, labels = batch.target
        return F.cross_entropy(self.network(images), labels)


def test_a_method_knows_its_progress_at_every_step():
    seen = []

    class Counts(_Supervised):
        def training_step(self, batch):
            seen.append((self.progress.step, self.progress.steps, self.progress.p))
            return super().training_step(batch)

    _trainer().fit(_method(Counts), _streams(), 4, 1, _split())
    assert seen == [(1, 4, 0.25), (2, 4, 0.5), (3, 4, 0.75), (4, 4, 1.0)]


def test_declared_views_are_augmentations_of_the_same_images_at_the_unlabeled_ratio():
    def shift(images, generator):
        return images + 1

    stream = BatchStream(_split(), 4 * 7, 0, CPU, views={"plain": None, "shifted": shift})
    draw = stream.draw()
    assert draw.views["plain"].shape == (28, 3, 32, 32)
    assert torch.equal(draw.views["shifted"], draw.views["plain"] + 1)


def test_the_fixmatch_plugin_gets_weak_and_strong_views_of_seven_times_more_unlabeled_images(contract_v2):
    from tlarena.plugins import load_arena

    FixMatch = contract_v2.FixMatch
    augmentations = load_arena().augmentations
    seen = {}

    class Recording(FixMatch):
        def training_step(self, batch):
            seen.update({name: view.shape[0] for name, view in batch.views["unlabeled"].items()})
            seen["labeled"] = batch.target[0].shape[0]
            seen["differ"] = not torch.equal(batch.views["unlabeled"]["weak"], batch.views["unlabeled"]["strong"])
            return super().training_step(batch)

    views = {name: augmentations.get(name).apply for name in ("weak", "strong")}
    streams = Streams(target=BatchStream(_split(), 4, 0, CPU, views={"weak": augmentations.get("weak").apply}),
                      unlabeled=BatchStream(_split(seed=1), 4 * FixMatch.unlabeled_ratio, 1, CPU, views=views))
    _trainer().fit(_method(Recording, hparams=dict(FixMatch.hparams)), streams, 1, 1, _split())
    assert seen == {"weak": 28, "strong": 28, "labeled": 4, "differ": True}


def test_a_phase_runs_before_step_one_and_every_phase_every_steps_over_every_target_image():
    calls = []

    class Phased(_Supervised):
        phase_every = 2

        def phase(self, target):
            calls.append((self.progress.step, sum(len(x) for x in target.batches(size=10))))

    _trainer().fit(_method(Phased), _streams(), 5, 1, _split(), target=_split(rows=30))
    assert calls == [(0, 30), (2, 30), (4, 30)]   # before steps 1, 3 and 5


def test_named_updates_run_in_the_declared_order_and_step_only_their_groups():
    order = []

    class Alternating(_Supervised):
        updates = (Update("critic", ("critic",), repeat=2), Update("network", ("network",)))

        def __init__(self, network, num_classes, hparams):
            super().__init__(network, num_classes, hparams)
            self.critic = nn.Linear(network.feature_dim, 1)

        def parameter_groups(self):
            return [{"name": "network", "params": self.network.parameters()},
                    {"name": "critic", "params": self.critic.parameters()}]

        def training_step(self, batch, update):
            order.append(update)
            images, labels = batch.target
            features = self.network.features(images)
            if update == "critic":
                return self.critic(features.detach()).pow(2).mean()
            return F.cross_entropy(self.network.head(features), labels)

    method = _method(Alternating)
    head_before = method.network.head.weight.detach().clone()
    critic_before = method.critic.weight.detach().clone()
    _trainer().fit(method, _streams(), 2, 1, _split())
    assert order == ["critic", "critic", "network"] * 2
    assert not torch.equal(method.critic.weight, critic_before) and not torch.equal(method.network.head.weight, head_before)


def test_tent_adapts_only_batch_norm_online_and_is_scored_on_its_online_predictions(contract_v2):
    TENT = contract_v2.TENT
    method = _method(TENT, model="dtn", hparams=dict(TENT.hparams))
    frozen = {name: p.detach().clone() for name, p in method.named_parameters() if not p.requires_grad}
    outcome = _trainer().fit_online(method, _split(rows=20), batch_size=8, seed=0)
    assert [point.step for point in outcome.curve] == [0, 3] and outcome.samples == 20
    assert all(torch.equal(p, frozen[name]) for name, p in method.named_parameters() if name in frozen)
    assert 0 < outcome.trainable_params < sum(p.numel() for p in method.parameters())


def test_a_module_left_out_of_every_group_is_named_and_not_counted_as_trainable():
    class Forgets(_Supervised):
        def __init__(self, network, num_classes, hparams):
            super().__init__(network, num_classes, hparams)
            self.projector = nn.Linear(network.feature_dim, 8)

        def parameter_groups(self):
            return [{"params": self.network.parameters()}]

    method = _method(Forgets)
    with pytest.warns(UnoptimizedParameters, match="method 'stub': trainable parameters of projector"):
        outcome = _trainer().fit(method, _streams(), 1, 1, _split())
    assert outcome.trainable_params == sum(p.numel() for p in method.network.parameters())


@pytest.mark.parametrize("loss, shown", [(1.5, "not float"), (torch.ones(3, requires_grad=True), r"shape \(3,\)")])
def test_a_loss_that_is_not_a_scalar_tensor_names_the_method_and_the_rule(loss, shown):
    class Wrong(_Supervised):
        def training_step(self, batch):
            return loss

    with pytest.raises(ContractError, match=rf"method 'stub': training_step must return the loss as a scalar tensor.*{shown}"):
        _trainer().fit(_method(Wrong), _streams(), 1, 1, _split())


def test_reading_an_undeclared_stream_names_the_flag_to_set():
    class Undeclared(_Supervised):
        def training_step(self, batch):
            return self.network(batch.unlabeled).mean()

    with pytest.raises(ContractError, match="reads batch.unlabeled but does not declare it: set uses_unlabeled_target = True"):
        _trainer().fit(_method(Undeclared), _streams(), 1, 1, _split())
