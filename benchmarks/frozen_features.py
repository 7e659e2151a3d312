"""Frozen features: the frozen-feature methods reusing each image's features against recomputing
them every step, side by side in one run.

Each method (linear probe, shallow CORAL, TCA) runs twice through tlarena's trainer on the same
frozen network, the same seeded batches and the same test images: once as registered (a
``FeatureTable`` computes each training image's features once and reuses them) and once with
``reuse_features = False`` (the frozen trunk runs on every step's batch). The ratio is the
recomputing run's training time over the reusing run's (the trainer's own clock; the phases count).
The frozen network is a timm model with random weights: the features' quality does not matter
here, only that both runs see the same ones. Target: ≥ 5× at the defaults, the same accuracy.

    python benchmarks/frozen_features.py [--model resnet18] [--steps 200] [--batch 64] [--images 512]
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
    (a domain). LeNet's random frozen features separate these classes (a linear probe reaches
    about 75 %), so with ``--model lenet`` "the same accuracy" compares figures above chance; a
    random ResNet-18's do not (chance)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, n).astype(np.int64)
    images = rng.integers(0, 60, (n, 3, 32, 32), dtype=np.uint8)
    for row, label in enumerate(labels):
        top, left = 2 + 5 * (label % 5) + shift, 4 + 12 * (label // 5) + shift
        images[row, :, top:top + 8, left:left + 8] = COLOURS[label, :, None, None]
    return SplitTensors(images, labels)


def _run(method_cls, model, data, args, device) -> tuple[float, float]:
    """(training seconds, final top-1) of one method on the shared data."""
    source, target, test = data
    torch.manual_seed(0)
    method = method_cls(Network(timm.create_model(model, num_classes=CLASSES)), CLASSES,
                        dict(method_cls.hparams))
    trainer = Trainer(device, Normalizer((0.5,) * 3, (0.5,) * 3, device))
    # Linear probe learns from target labels; CORAL and TCA from the source, the target unlabeled.
    if method_cls.uses_source_data:
        streams = Streams(source=BatchStream(source, args.batch, seed=1, device=device))
    else:
        streams = Streams(target=BatchStream(target, args.batch, seed=2, device=device))
    outcome = trainer.fit(method, streams, args.steps, 1, test, target=target, source=source)
    return outcome.train_seconds, outcome.curve[-1].top1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--images", type=int, default=512, help="training images per domain")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    data = (_blobs(args.images, 0, 0), _blobs(args.images, 2, 1), _blobs(args.images // 2, 2, 2))
    print(f"{args.model} (random weights, frozen) at 32 px, batch {args.batch}, {args.steps} steps, "
          f"{args.images} images per domain, on {device_name(device)}")
    for method_cls in (LinearProbe, ShallowCORAL, TCA):
        recomputing = type(f"{method_cls.__name__}Recomputing", (method_cls,), {"reuse_features": False})
        reused_seconds, reused_top1 = _run(method_cls, args.model, data, args, device)
        recomputed_seconds, recomputed_top1 = _run(recomputing, args.model, data, args, device)
        print(f"{method_cls.name}: reused {reused_seconds:.2f} s, recomputed {recomputed_seconds:.2f} s, "
              f"speed-up ratio: {recomputed_seconds / reused_seconds:.1f}; top-1 reused {reused_top1:.3f}, "
              f"recomputed {recomputed_top1:.3f}")


if __name__ == "__main__":
    main()
