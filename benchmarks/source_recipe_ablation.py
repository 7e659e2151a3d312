"""Which difference from a plain training loop costs tlarena's MNIST → USPS source model its points.

docs/reproduction.md compares tlarena's source-only LeNet on the small-sample digits protocol (2,000
MNIST → 1,800 USPS) with a plain hand-written loop that reached about 79 % (and about 86–88 % with
DANN). This script trains LeNet on the same 2,000 MNIST images outside the harness, changing one
thing at a time from the plain loop's recipe towards tlarena's, and scores each model on the 2,007
USPS test images (what tlarena scores this pair on) and on the 1,800 USPS training images (what a
loop that adapts to them and scores on them sees):

  plain       28 × 28 grey, all 2,000 images, SGD lr 0.01 momentum 0.9, constant rate, no decay
  32px-rgb    tlarena's input: 32 × 32, three channels (tlarena's ``lenet``)
  1600        tlarena's source part: the 1,600 images its 20 % source-validation hold-out leaves
  recipe      tlarena's source optimizer: Nesterov lr 0.05, weight decay 5e-4, warm-up + cosine
  tlarena     all three together: what the harness does
  plain-dann  the plain recipe with DANN from the first step (Ganin et al., JMLR 2016): the domain
              loss of ``tlarena.adaptation`` through gradient reversal with the paper's λ_p, a
              1024 × 2 discriminator (tlarena's DANN), 64 unlabeled images of the 1,800 per step

With ``--images jda`` every variant trains on the JDA subset's 2,000 MNIST images instead (16 × 16,
resized from 2,000 MNIST test images) and adapts to and is scored on its 1,800 USPS images: the
"2,000/1,800 images" of the shallow-DA literature. That subset has no USPS test split.

    python benchmarks/source_recipe_ablation.py --shared ../shared/data --seeds 0,1 --steps 2500
    python benchmarks/source_recipe_ablation.py --images jda --variants plain,plain-dann --seeds 0,1,2
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import timm
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import tlarena_plugins.backbones  # noqa: F401  registers lenet in timm
from tlarena.adaptation import DomainDiscriminator, domain_adversarial_loss, reversal_schedule, reverse_gradient
from tlarena.optimizers import lr_factor
from tlarena.partition import Cut
from tlarena.source_models import SOURCE_HPARAMS

sys.path.insert(0, str(Path(__file__).resolve().parent))   # the helpers beside this script
from _reproduction import read_idx, read_jda  # noqa: E402

VARIANTS = {  # name: (side, channels, use the 1,600-image part, tlarena's optimizer, DANN)
    "plain": (28, 1, False, False, False),
    "32px-rgb": (32, 3, False, False, False),
    "1600": (28, 1, True, False, False),
    "recipe": (28, 1, False, True, False),
    "tlarena": (32, 3, True, True, False),
    "plain-dann": (28, 1, False, False, True),
}


def load(shared: Path) -> tuple[np.ndarray, ...]:
    """MNIST's first 2,000 test images (tlarena's ``mnist-2000`` offline), USPS's first 1,800
    training images (``usps-1800``) and its 2,007 test images, as uint8 (N, H, W) with labels."""
    mnist = read_idx(shared / "mnist/t10k-images-idx3-ubyte.gz")[:2000]
    mnist_labels = read_idx(shared / "mnist/t10k-labels-idx1-ubyte.gz")[:2000].astype(np.int64)
    with h5py.File(shared / "usps/usps.h5") as f:
        usps = (f["train/data"][:1800].reshape(-1, 16, 16) * 255).round().astype(np.uint8)
        usps_labels = f["train/target"][:1800].astype(np.int64)
        test = (f["test/data"][:].reshape(-1, 16, 16) * 255).round().astype(np.uint8)
        test_labels = f["test/target"][:].astype(np.int64)
    return mnist, mnist_labels, usps, usps_labels, test, test_labels


def load_jda(shared: Path) -> tuple[np.ndarray | None, ...]:
    """The JDA subset's 2,000 MNIST and 1,800 USPS images, as ``load``'s, without a USPS test split."""
    return (*read_jda(shared), None, None)


def tensor(images: np.ndarray, side: int, channels: int) -> torch.Tensor:
    """Bilinear resize to ``side`` (as tlarena's decoder), scaled to [-1, 1] (lenet's mean and std)."""
    resized = np.stack([np.asarray(Image.fromarray(im).resize((side, side), Image.Resampling.BILINEAR))
                        for im in images])
    x = torch.from_numpy(resized).float().div(255).sub(0.5).div(0.5).unsqueeze(1)
    return x.expand(-1, channels, -1, -1).contiguous()


def lenet(side: int, channels: int) -> nn.Module:
    if side == 32:
        return timm.create_model("lenet", num_classes=10, in_chans=channels)
    # the same 20-50-500 LeNet at 28 px (ADDA's and TLlib's): its fc layer sees 50·4·4 inputs
    return nn.Sequential(nn.Conv2d(channels, 20, 5), nn.MaxPool2d(2), nn.ReLU(),
                         nn.Conv2d(20, 50, 5), nn.Dropout2d(0.5), nn.MaxPool2d(2), nn.ReLU(),
                         nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Dropout(0.5), nn.Linear(500, 10))


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: np.ndarray) -> float:
    model.eval()
    return float((model(x).argmax(1).numpy() == y).mean())


def train(variant: str, seed: int, steps: int, data) -> tuple[float | None, float, float]:
    side, channels, part, recipe, dann = VARIANTS[variant]
    mnist, mnist_labels, usps, usps_labels, test, test_labels = data
    rows = Cut.of(mnist_labels).kept if part else np.arange(len(mnist_labels))
    x, y = tensor(mnist[rows], side, channels), torch.from_numpy(mnist_labels[rows])
    torch.manual_seed(seed)
    model = lenet(side, channels)
    target = tensor(usps, side, channels)
    params = list(model.parameters())
    if dann:   # at 28 px: the 500-d features DANN aligns, then the last layer
        features, classifier, discriminator = model[:-1], model[-1], DomainDiscriminator(500)
        params += discriminator.parameters()
    if recipe:
        optimizer = torch.optim.SGD(params, lr=SOURCE_HPARAMS["lr"], momentum=0.9,
                                    weight_decay=SOURCE_HPARAMS["weight_decay"], nesterov=True)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, steps))
    else:
        optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9)
        schedule = None
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(y), generator=generator)
    cursor = 0
    for step in range(steps):
        if cursor + 64 > len(y):   # epochs without replacement, reshuffled
            order, cursor = torch.randperm(len(y), generator=generator), 0
        batch = order[cursor:cursor + 64]
        cursor += 64
        model.train()
        if dann:   # source and target in one batch, as tlarena's DANN
            unlabeled = torch.randint(0, len(target), (64,), generator=generator)
            both = features(torch.cat([x[batch], target[unlabeled]]))
            reversed_both = reverse_gradient(both, reversal_schedule(step / steps))
            loss = (F.cross_entropy(classifier(both[:len(batch)]), y[batch])
                    + domain_adversarial_loss(discriminator, reversed_both[:len(batch)], reversed_both[len(batch):]))
        else:
            loss = F.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if schedule:
            schedule.step()
    scored_test = None if test is None else accuracy(model, tensor(test, side, channels), test_labels)
    return scored_test, accuracy(model, target, usps_labels), accuracy(model, x, y.numpy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--images", choices=("suite", "jda"), default="suite",
                        help="suite: tlarena's mnist-2000 and usps-1800 with USPS's test split; "
                             "jda: the JDA subset's 2,000 / 1,800 16-px images")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = (load if args.images == "suite" else load_jda)(args.shared)
    print(f"{'variant':<10} {'seed':>4} {'USPS test %':>12} {'USPS 1,800 %':>13} {'MNIST fit %':>12} {'s':>6}")
    for variant in args.variants.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            started = time.perf_counter()
            usps_test, usps_train, fit = train(variant, seed, args.steps, data)
            scored_test = "–" if usps_test is None else f"{100 * usps_test:.1f}"
            print(f"{variant:<10} {seed:>4} {scored_test:>12} {100 * usps_train:>13.1f} {100 * fit:>12.1f} "
                  f"{time.perf_counter() - started:>6.0f}", flush=True)


if __name__ == "__main__":
    main()
