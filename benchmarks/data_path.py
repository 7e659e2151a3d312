"""The cached data path keeps the model busy: loader time against step time, and decode counts.

On REAL digits (USPS from ../shared/data, imported through `tlarena data import`'s code into a data
dir and read through the hub code path), LeNet at batch 128 on the CPU:
- the first pass decodes every image once into the uint8 cache; a second epoch, and every later
  run, decodes none (the decode counter is printed after each);
- the time to fetch a batch (gather + copy to the device + normalize) is measured against the time
  of a whole training step of the harness on the same batches. Target: loader ≤ 10 % of step time.

    python benchmarks/data_path.py [--steps 60]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    if not (SHARED / "usps" / "usps.h5").exists():
        raise SystemExit(f"needs the real USPS data at {SHARED / 'usps'} (../shared/data is absent)")
    scratch = Path(tempfile.mkdtemp(prefix="tlarena-bench-"))
    os.environ["TLARENA_CACHE"] = str(scratch / "cache")

    import datasets

    import tlarena_plugins.backbones  # noqa: F401  registers lenet in timm
    from tlarena.backbones import create_model
    from tlarena.data import BatchStream, ImageSpec, split_tensors, tensors
    from tlarena.data.importer import import_data
    from tlarena.environment import device_name
    from tlarena.methods import Network
    from tlarena.trainer import Normalizer, Streams, Trainer
    from tlarena_plugins.methods.fine_tune import FineTune
    from tlarena_plugins.suites.digits import USPS

    datasets.disable_progress_bars()
    usps = SHARED / "usps" / "usps.h5"
    data_dir = scratch / "data"
    import_data("hdf5", "flwrlabs/usps", {"train": [usps], "test": [usps]}, data_dir, source=USPS)
    image = ImageSpec(3, 32, 32)
    device = torch.device("cpu")

    started = time.perf_counter()
    train = split_tensors(USPS, "train", image, data_dir=data_dir)
    first = time.perf_counter() - started
    decoded_first = tensors.decode_count
    started = time.perf_counter()
    train = split_tensors(USPS, "train", image, data_dir=data_dir)
    second = time.perf_counter() - started
    print(f"device: {device_name(device)}; torch {torch.__version__}; USPS train, {len(train)} images")
    print(f"first load : {first:6.2f} s, images decoded so far: {decoded_first}")
    print(f"second load: {second:6.2f} s, images decoded so far: {tensors.decode_count} "
          f"(new decodes: {tensors.decode_count - decoded_first})")

    normalize = Normalizer((0.5,) * 3, (0.5,) * 3, device)
    stream = BatchStream(train, args.batch, seed=0, device=device)
    epoch_batches = len(train) // args.batch
    before = tensors.decode_count
    started = time.perf_counter()
    for _ in range(2 * epoch_batches):   # two epochs of batches
        normalize(stream.next()[0])
    loader = (time.perf_counter() - started) / (2 * epoch_batches)
    print(f"two epochs of batches: {2 * epoch_batches} batches, new decodes: {tensors.decode_count - before}")

    method = FineTune(Network(create_model("lenet", 10)), 10, {"lr": 0.01, "weight_decay": 5e-4})
    trainer = Trainer(device, normalize)
    streams = Streams(target=BatchStream(train, args.batch, seed=1, device=device))
    test = train.subset(torch.arange(256).numpy())
    outcome = trainer.fit(method, streams, args.steps, 1, test)
    step = outcome.train_seconds / args.steps
    print(f"LeNet batch {args.batch}: loader {1000 * loader:.2f} ms/batch, "
          f"harness step (loader included) {1000 * step:.2f} ms")
    print(f"loader share of step time: {loader / step:.3f}   target ≤ 0.10")


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
