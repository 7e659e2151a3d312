"""Trainer overhead: tlarena's trainer against a plain hand-written PyTorch loop, side by side.

Both run the same steps on the same model (LeNet from the same initial weights), the same batches
(the same seeded sampling of the same uint8 tensors), the same optimizer, schedule and gradient clipping, and evaluate on
the same test tensors at the same steps. The ratio is median harness time / median plain time over
interleaved repeats. Target: ≤ 1.05 on CPU.

The plain loop uses the harness's memory layout (channels-last on CPU and CUDA), so the ratio is
the trainer's own overhead; the plain loop is also timed in PyTorch's default layout, and the
layout's gain is printed beside it.

    python benchmarks/trainer_overhead.py [--steps 300] [--repeats 5] [--device cpu]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import numpy as np
import timm
import torch
import torch.nn.functional as F

import tlarena_plugins.backbones  # noqa: F401  registers lenet in timm
from tlarena.data import BatchStream, SplitTensors
from tlarena.environment import device_name
from tlarena.methods import Network
from tlarena.optimizers import lr_factor
from tlarena.trainer import CLIP_NORM, EVAL_BATCH, Normalizer, Streams, Trainer, channels_last, eval_schedule
from tlarena_plugins.methods.fine_tune import FineTune


def _data(n: int, seed: int) -> SplitTensors:
    rng = np.random.default_rng(seed)
    return SplitTensors(rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8),
                        rng.integers(0, 10, n).astype(np.int64))


def harness(model, train, test, steps, batch, points, device) -> float:
    method = FineTune(Network(copy.deepcopy(model)), 10, {"lr": 0.01, "weight_decay": 5e-4})
    trainer = Trainer(device, Normalizer((0.5,) * 3, (0.5,) * 3, device))
    streams = Streams(target=BatchStream(train, batch, seed=1, device=device))
    started = time.perf_counter()
    trainer.fit(method, streams, steps, points, test)
    return time.perf_counter() - started


def plain(model, train, test, steps, batch, points, device, layout=torch.contiguous_format) -> float:
    model = copy.deepcopy(model).to(device).to(memory_format=layout)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, steps))
    images, labels = torch.from_numpy(train.images), torch.from_numpy(train.labels)
    test_images = torch.from_numpy(test.images)
    generator = torch.Generator().manual_seed(1)
    order = torch.empty(0, dtype=torch.long)
    mean = torch.full((1, 3, 1, 1), 0.5 * 255, device=device)
    schedule = set(eval_schedule(steps, points))
    started = time.perf_counter()
    for step in range(steps + 1):
        if step > 0:
            while len(order) < batch:
                order = torch.cat([order, torch.randperm(len(labels), generator=generator)])
            index, order = order[:batch], order[batch:]
            x = ((images[index].to(device).float() - mean) / mean).contiguous(memory_format=layout)
            model.train()
            loss = F.cross_entropy(model(x), labels[index].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM, foreach=True)
            optimizer.step()
            scheduler.step()
        if step in schedule:
            model.eval()
            with torch.no_grad():
                for start in range(0, len(test_images), EVAL_BATCH):
                    x = (test_images[start:start + EVAL_BATCH].to(device).float() - mean) / mean
                    model(x.contiguous(memory_format=layout)).argmax(1)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--points", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = timm.create_model("lenet", num_classes=10)
    train, test = _data(2000, 0), _data(1000, 1)
    layout = torch.channels_last if channels_last(device) else torch.contiguous_format
    times = {"harness": [], "plain": [], "default layout": []}
    for _ in range(args.repeats):   # interleaved, so drifts in machine load hit all alike
        times["plain"].append(plain(model, train, test, args.steps, args.batch, args.points, device, layout))
        times["harness"].append(harness(model, train, test, args.steps, args.batch, args.points, device))
        times["default layout"].append(plain(model, train, test, args.steps, args.batch, args.points, device))
    h, p, d = (statistics.median(times[name]) for name in ("harness", "plain", "default layout"))
    print(f"device: {device_name(device)}; torch {torch.__version__}")
    print(f"LeNet, batch {args.batch}, {args.steps} steps, {args.points} evaluations of 1000 images, "
          f"median of {args.repeats} interleaved repeats")
    for seconds, layout_used in ((p, layout), (d, torch.contiguous_format)):
        print(f"plain loop : {seconds:.3f} s  ({1000 * seconds / args.steps:.2f} ms/step incl. evaluation; "
              f"{_name(layout_used)})")
    print(f"tlarena    : {h:.3f} s  ({1000 * h / args.steps:.2f} ms/step incl. evaluation)")
    print(f"overhead ratio (tlarena / plain): {h / p:.3f}   target ≤ 1.05")
    print(f"layout ratio (plain {_name(layout)} / plain {_name(torch.contiguous_format)}): {p / d:.3f}")


def _name(layout: torch.memory_format) -> str:
    return "channels-last" if layout == torch.channels_last else "default layout"


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
