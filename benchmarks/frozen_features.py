"""Frozen features: the frozen-feature methods reusing each image's features against recomputing
them every step, side by side in one run.

Each method (linear probe, shallow CORAL, TCA) runs twice through tlarena's trainer on the same
frozen network, the same seeded batches and the same test images: once as registered (a
``FeatureTable`` computes each training image's features once and reuses them) and once with
``reuse_features = False`` (the frozen trunk runs on every step's batch). The ratio is the
recomputing run's training time over the reusing run's (the trainer's own clock; the phases count).
The frozen network is a timm model first trained for ``--pretrain-steps`` on the source images (a
source model, as the harness would give these methods; untimed), so that "the same accuracy"
compares figures above chance; both runs of a method start from the same weights and see the same
features. Target: ≥ 5× at the defaults, the same accuracy.

    python benchmarks/frozen_features.py [--model resnet18] [--steps 200] [--batch 64] [--images 512]
                                         [--pretrain-steps 100] [--threads N]
"""
from __future__ import annotations

import argparse

import numpy as np
import timm
import torch

from tlarena.data import BatchStream, SplitTensors
from tlarena.environment import device_name
from tlarena.methods import Network
from tlarena.trainer import Normalizer, Streams, Trainer
import tlarena_plugins.backbones  # noqa: F401  registers lenet and dtn in timm (--model lenet)
from tlarena_plugins.methods.coral_linear import ShallowCORAL
from tlarena_plugins.methods.linear_probe import LinearProbe
from tlarena_plugins.methods.tca import TCA

CLASSES = 10
COLOURS = np.random.default_rng(7).integers(60, 256, (CLASSES, 3)).astype(np.uint8)


def _blobs(n: int, shift: int, seed: int) -> SplitTensors:
    """Each class a square of its own colour at its own place on noise; ``shift`` moves every square
    (a domain). A random ResNet-18's features do not separate them (a linear probe stays at
    chance), hence the source training before the features are frozen."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, n).astype(np.int64)
    images = rng.integers(0, 60, (n, 3, 32, 32), dtype=np.uint8)
    for row, label in enumerate(labels):
        top, left = 2 + 5 * (label % 5) + shift, 4 + 12 * (label // 5) + shift
        images[row, :, top:top + 8, left:left + 8] = COLOURS[label, :, None, None]
    return SplitTensors(images, labels)


def _source_model(model: str, source: SplitTensors, steps: int, batch: int) -> dict:
    """The weights of ``model`` trained ``steps`` SGD steps on the labeled source images."""
    torch.manual_seed(0)
    network = timm.create_model(model, num_classes=CLASSES)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.05, momentum=0.9)
    x = (torch.from_numpy(source.images).float() - 127.5) / 127.5
    y = torch.from_numpy(source.labels)
    generator = torch.Generator().manual_seed(0)
    network.train()
    for _ in range(steps):
        rows = torch.randint(0, len(y), (batch,), generator=generator)
        loss = torch.nn.functional.cross_entropy(network(x[rows]), y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return network.state_dict()


def _run(method_cls, model, weights, data, args, device) -> tuple[float, float]:
    """(training seconds, final top-1) of one method on the shared data."""
    source, target, test = data
    torch.manual_seed(0)
    network = timm.create_model(model, num_classes=CLASSES)
    network.load_state_dict(weights)
    method = method_cls(Network(network), CLASSES, dict(method_cls.hparams))
    trainer = Trainer(device, Normalizer((0.5,) * 3, (0.5,) * 3, device))
    # Linear probe learns from target labels; CORAL and TCA from the source, the target unlabeled.
    if method_cls.uses_source_data:
        streams = Streams(source=BatchStream(source, args.batch, seed=1, device=device))
    else:
        streams = Streams(target=BatchStream(target, args.batch, seed=2, device=device))
    outcome = trainer.fit(method, streams, args.steps, 1, test, target=target, source=source)
    return outcome.train_seconds, outcome.curve[-1].top1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--images", type=int, default=512, help="training images per domain")
    parser.add_argument("--pretrain-steps", type=int, default=100,
                        help="source training of the network before it is frozen (untimed)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, help="torch's CPU threads (default: torch's own choice); 1 "
                        "keeps a job on another core from stalling torch's thread pool")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    data = (_blobs(args.images, 0, 0), _blobs(args.images, 2, 1), _blobs(args.images // 2, 2, 2))
    weights = _source_model(args.model, data[0], args.pretrain_steps, args.batch)
    print(f"{args.model} (trained {args.pretrain_steps} steps on the source, then frozen) at 32 px, batch {args.batch}, {args.steps} steps, "
          f"{args.images} images per domain, on {device_name(device)}")
    for method_cls in (LinearProbe, ShallowCORAL, TCA):
        recomputing = type(f"{method_cls.__name__}Recomputing", (method_cls,), {"reuse_features": False})
        reused_seconds, reused_top1 = _run(method_cls, args.model, weights, data, args, device)
        recomputed_seconds, recomputed_top1 = _run(recomputing, args.model, weights, data, args, device)
        print(f"{method_cls.name}: reused {reused_seconds:.2f} s, recomputed {recomputed_seconds:.2f} s, "
              f"speed-up ratio: {recomputed_seconds / reused_seconds:.1f}; top-1 reused {reused_top1:.3f}, "
              f"recomputed {recomputed_top1:.3f}")


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
