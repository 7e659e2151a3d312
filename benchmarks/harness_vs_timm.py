"""A timm backbone through tlarena's harness against a bare timm training loop, on the same batches.

Made for the GPU (resnet50 at 224 px, the issue's target), runnable anywhere. Both sides train the
same model from the same initial weights on the same seeded batches of the same uint8 images, with
the same optimizer, schedule, gradient clipping, mixed precision (bf16, or fp16 with a grad scaler,
on CUDA) and memory format (channels_last on CUDA and the CPU), and evaluate the same test images at
the same steps.

- The harness reads the images from a memory-mapped uint8 cache file, as it does for every dataset
  too big to hold in memory (DomainNet, VisDA at 224 px): a background thread reads ahead and
  pins the batches. The bare loop indexes an in-memory copy: the easiest case for a data path.
- Printed: seconds per step of each, the ratio (target ≤ 1.05), images/s, and the data-loading
  share: the time to fetch one batch (read, copy to the device, normalize) over the time of one
  harness step (target ≤ 0.10).

    python benchmarks/harness_vs_timm.py                      # resnet50, 224 px, batch 64, best device
    python benchmarks/harness_vs_timm.py --model resnet18 --size 64 --steps 5 --device cpu   # smoke
"""
from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import timm
import torch
import torch.nn.functional as F

from tlarena.data import BatchStream, SplitTensors
from tlarena.environment import device_name, find_device
from tlarena.methods import Network
from tlarena.optimizers import lr_factor
from tlarena.trainer import CLIP_NORM, EVAL_BATCH, Normalizer, Streams, Trainer, channels_last, eval_schedule
from tlarena_plugins.methods.fine_tune import FineTune

HPARAMS = {"lr": 0.01, "weight_decay": 5e-4}
CLASSES = 10


def _images(n: int, size: int, seed: int) -> SplitTensors:
    rng = np.random.default_rng(seed)
    return SplitTensors(rng.integers(0, 256, (n, 3, size, size), dtype=np.uint8),
                        rng.integers(0, CLASSES, n).astype(np.int64))


def _memory_mapped(split: SplitTensors, folder: Path) -> SplitTensors:
    path = folder / "images.npy"
    np.save(path, split.images)
    return SplitTensors(np.load(path, mmap_mode="r"), split.labels)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def harness(model, train, test, args, device) -> tuple[float, float]:
    """Wall seconds of the whole fit, and the trainer's own clock of its training steps alone."""
    method = FineTune(Network(copy.deepcopy(model)), CLASSES, dict(HPARAMS))
    trainer = Trainer(device, Normalizer((0.5,) * 3, (0.5,) * 3, device))
    streams = Streams(target=BatchStream(train, args.batch, seed=1, device=device))
    _sync(device)
    started = time.perf_counter()
    outcome = trainer.fit(method, streams, args.steps, args.points, test)
    _sync(device)
    return time.perf_counter() - started, outcome.train_seconds


def bare(model, train, test, args, device) -> float:
    """The loop one writes by hand around a timm model, with the same math as the harness."""
    model = copy.deepcopy(model).to(device)
    cuda = device.type == "cuda"
    memory_format = torch.channels_last if channels_last(device) else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float16
    autocast = torch.autocast(device_type=device.type, dtype=dtype, enabled=cuda)
    scaler = torch.amp.GradScaler("cuda", enabled=cuda and dtype == torch.float16)
    optimizer = torch.optim.SGD(model.parameters(), lr=HPARAMS["lr"], momentum=0.9,
                                weight_decay=HPARAMS["weight_decay"], nesterov=True)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, args.steps))
    images, labels = torch.from_numpy(np.asarray(train.images)), torch.from_numpy(train.labels)
    test_images = torch.from_numpy(test.images)
    generator = torch.Generator().manual_seed(1)
    order = torch.empty(0, dtype=torch.long)
    half = torch.full((1, 3, 1, 1), 0.5 * 255, device=device)

    def prepare(batch):
        batch = batch.pin_memory() if cuda else batch
        x = (batch.to(device, non_blocking=True).float() - half) / half
        return x.contiguous(memory_format=memory_format)

    schedule = set(eval_schedule(args.steps, args.points))
    _sync(device)
    started = time.perf_counter()
    for step in range(args.steps + 1):
        if step > 0:
            while len(order) < args.batch:
                order = torch.cat([order, torch.randperm(len(labels), generator=generator)])
            index, order = order[:args.batch], order[args.batch:]
            model.train()
            with autocast:
                loss = F.cross_entropy(model(prepare(images[index])), labels[index].to(device))
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM, foreach=True)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
        if step in schedule:
            model.eval()
            with torch.no_grad(), autocast:
                for start in range(0, len(test_images), EVAL_BATCH):
                    model(prepare(test_images[start:start + EVAL_BATCH])).argmax(1).cpu()
    _sync(device)
    return time.perf_counter() - started


def loader_seconds(train, args, device) -> float:
    """Seconds to fetch one batch as the harness does: read-ahead, copy to the device, normalize."""
    normalize = Normalizer((0.5,) * 3, (0.5,) * 3, device)
    stream = BatchStream(train, args.batch, seed=2, device=device)
    try:
        for _ in range(3):   # let the read-ahead thread fill its queue, as it does during a step
            normalize(stream.next()[0])
        batches = max(args.steps, 10)
        _sync(device)
        started = time.perf_counter()
        for _ in range(batches):
            normalize(stream.next()[0])
            _sync(device)
        return (time.perf_counter() - started) / batches
    finally:
        stream.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="resnet50", help="any timm model name")
    parser.add_argument("--size", type=int, default=224, help="image height and width")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--points", type=int, default=1, help="evaluations after step 0")
    parser.add_argument("--images", type=int, default=2048, help="training images")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None, help="default: the best one found")
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else find_device()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True   # both sides get the same tuned kernels
    torch.manual_seed(0)
    model = timm.create_model(args.model, num_classes=CLASSES)
    with tempfile.TemporaryDirectory(prefix="tlarena-bench-") as folder:
        in_memory = _images(args.images, args.size, 0)
        mapped = _memory_mapped(in_memory, Path(folder))
        test = _images(256, args.size, 1)
        # One untimed run of each first: cudnn autotuning and allocator warm-up are not overhead.
        quick = argparse.Namespace(**{**vars(args), "steps": min(args.steps, 5)})
        bare(model, in_memory, test, quick, device)
        harness(model, mapped, test, quick, device)
        times = {"bare": [], "harness": [], "harness steps": []}
        for _ in range(args.repeats):   # interleaved, so drifts in machine load hit both alike
            times["bare"].append(bare(model, in_memory, test, args, device))
            wall, steps = harness(model, mapped, test, args, device)
            times["harness"].append(wall)
            times["harness steps"].append(steps)
        loader = loader_seconds(mapped, args, device)
    b, h = statistics.median(times["bare"]), statistics.median(times["harness"])
    evaluations = len(eval_schedule(args.steps, args.points))
    print(f"device: {device_name(device)}; torch {torch.__version__}; timm {timm.__version__}")
    print(f"{args.model} at {args.size} px, batch {args.batch}, {args.steps} steps, {evaluations} "
          f"evaluations of {len(test)} images, median of {args.repeats} interleaved repeats")
    print(f"bare timm loop: {b:.3f} s  ({1000 * b / args.steps:.1f} ms/step incl. evaluation, "
          f"{args.batch * args.steps / b:.0f} images/s)")
    print(f"tlarena       : {h:.3f} s  ({1000 * h / args.steps:.1f} ms/step incl. evaluation, "
          f"{args.batch * args.steps / h:.0f} images/s)")
    print(f"overhead ratio (tlarena / bare): {h / b:.3f}   target ≤ 1.05")
    step = statistics.median(times["harness steps"]) / args.steps
    print(f"data loading: {1000 * loader:.2f} ms/batch from the memory-mapped cache, "
          f"{1000 * step:.1f} ms per harness training step; share: {loader / step:.5f}   target ≤ 0.10")


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
