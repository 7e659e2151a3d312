"""The one trainer: fixed schedule, determinism on CPU, cost accounting."""
import numpy as np
import timm
import torch
from conftest import TINY

import tlarena_plugins.backbones  # noqa: F401  registers lenet in timm
from tlarena.methods import Network
from tlarena.records import read_records
from tlarena.data import BatchStream, SplitTensors
from tlarena.trainer import Normalizer, Streams, Trainer, eval_schedule
from tlarena_plugins.methods.fine_tune import FineTune
from tlarena_plugins.methods.progressive_net import ProgressiveNet

PAIR = "uci-digits->uci-digits-rotated"


def test_eval_schedule_is_fixed_and_ends_at_the_budget():
    assert eval_schedule(100, 4) == [0, 25, 50, 75, 100] and eval_schedule(0, 4) == [0]


def test_the_cpu_trains_and_evaluates_channels_last_as_cuda_does():
    # oneDNN's channels-last convolutions: a LeNet step 1.5x, its evaluation 2x (trainer_overhead.py).
    cpu = torch.device("cpu")
    trainer = Trainer(cpu, Normalizer((0.5,) * 3, (0.5,) * 3, cpu))
    method = FineTune(Network(timm.create_model("lenet", num_classes=10)), 10, {"lr": 0.01, "weight_decay": 0.0})
    trainer._place(method, SplitTensors(np.zeros((2, 3, 32, 32), np.uint8), np.zeros(2, np.int64)))
    images = trainer.normalize(torch.zeros(2, 3, 32, 32, dtype=torch.uint8))

    assert images.is_contiguous(memory_format=torch.channels_last) and not images.is_contiguous()
    assert method.network.model.features[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_a_model_with_a_5d_weight_is_placed_with_its_4d_weights_channels_last():
    cpu = torch.device("cpu")
    trainer = Trainer(cpu, Normalizer((0.5,) * 3, (0.5,) * 3, cpu))
    network = Network(timm.create_model("lenet", num_classes=10))
    network.model.volume = torch.nn.Conv3d(1, 1, 3)   # a backbone plugin's own layer, say
    method = FineTune(network, 10, {"lr": 0.01, "weight_decay": 0.0})

    trainer._place(method, SplitTensors(np.zeros((0, 3, 32, 32), np.uint8), np.zeros(0, np.int64)))

    assert method.network.model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert method.network.model.volume.weight.is_contiguous()


class _ViewNet(torch.nn.Module):
    """A plugin's network as tutorials write it: ``.view`` on a feature map, which a channels-last
    feature map cannot give."""

    num_features = 8 * 15 * 15

    def __init__(self):
        super().__init__()
        self.conv, self.head = torch.nn.Conv2d(3, 8, 3), torch.nn.Linear(self.num_features, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(self.conv(x), 2)
        return self.head(x.view(x.size(0), -1))


def test_a_network_that_views_its_feature_map_trains_in_the_default_layout(tmp_path):
    cpu = torch.device("cpu")
    trainer = Trainer(cpu, Normalizer((0.5,) * 3, (0.5,) * 3, cpu))
    method = FineTune(Network(_ViewNet()), 10, {"lr": 0.01, "weight_decay": 0.0})
    rng = np.random.default_rng(0)
    images = SplitTensors(rng.integers(0, 256, (64, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, 64))

    outcome = trainer.fit(method, Streams(target=BatchStream(images, 16, seed=1, device=cpu)), 3, 1, images)

    assert outcome.steps == 3 and len(outcome.curve) == 2 and not trainer.normalize.channels_last
    assert method.network.model.conv.weight.is_contiguous()


def test_a_network_that_fails_in_either_layout_keeps_the_faster_one():
    # progressive-net's target column refuses to run without its source column: probed alone it
    # failed, and its runs went to the default layout, whose kernels moved every number it recorded
    cpu = torch.device("cpu")
    trainer = Trainer(cpu, Normalizer((0.5,) * 3, (0.5,) * 3, cpu))
    method = ProgressiveNet(Network(timm.create_model("lenet", num_classes=10)), 10, ProgressiveNet.hparams)

    trainer._place(method, SplitTensors(np.zeros((2, 3, 32, 32), np.uint8), np.zeros(2, np.int64)))

    assert trainer.normalize.channels_last
    assert method.network.model.features[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_same_spec_on_cpu_gives_the_same_accuracy(cli, tmp_path):
    args = ("run", "--methods", "fine-tune,scratch", "--pairs", PAIR, "--settings", "few-shot",
            "--device", "cpu", *TINY)
    cli(*args, "--results", str(tmp_path / "a"))
    cli(*args, "--results", str(tmp_path / "b"))
    curves = [{r.key: [p.top1 for p in r.curve] for r in read_records(tmp_path / d)[0]} for d in "ab"]
    assert curves[0] == curves[1] and len(curves[0]) == 2


def test_every_ok_record_carries_accuracy_convergence_and_cost(cli, tmp_path):
    cli("run", "--methods", "fine-tune,source-only", "--pairs", PAIR, "--results", str(tmp_path), *TINY)
    records = [r for r in read_records(tmp_path)[0] if r.status == "ok"]
    fine_tune = next(r for r in records if r.spec.method == "fine-tune")
    assert 0 < fine_tune.metrics.top1 <= 1 and fine_tune.metrics.steps_to_95 <= 30
    assert 0 <= fine_tune.metrics.auc <= 1 and fine_tune.metrics.flops_to_95 >= 0
    assert fine_tune.cost.train_flops > 0 and fine_tune.cost.peak_memory_bytes > 0
    assert 0 < fine_tune.cost.trainable_params == fine_tune.cost.total_params
    assert [p.step for p in fine_tune.curve] == [0, 10, 20, 30]
    assert fine_tune.shared_cost.train_seconds > 0 and fine_tune.shared_cost.steps == 60
    assert fine_tune.environment.torch and fine_tune.environment.device == "cpu"


def test_n_a_cells_are_recorded_with_their_reason(cli, tmp_path):
    cli("run", "--methods", "source-only,fine-tune", "--pairs", "uci-digits->synth-letters",
        "--results", str(tmp_path), *TINY)
    statuses = {r.spec.method: (r.status, r.reason) for r in read_records(tmp_path)[0]}
    assert statuses["fine-tune"][0] == "ok"
    assert statuses["source-only"] == ("n/a", "source-only runs only in uda, not in task "
                                       "(the target's label space differs from the source's)")
