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

``--mnist`` and ``--usps`` choose the images instead, one side and one difference at a time, from
the suite's (``first-2000``, ``first-1800``) to the JDA subset's (``jda``), the "2,000/1,800 images"
of the shallow-DA literature (``jda_mnist_usps/MNIST_vs_USPS.mat``):

  --mnist first-2000        MNIST's first 2,000 test images, 28 px (the suite's ``mnist-2000`` offline)
  --mnist first-2000-16px   the same images brought down to 16 px (bilinear), as the subset's are
  --mnist every-fifth       every fifth MNIST test image, 28 px: from both of MNIST's writer groups,
                            as the subset's are (its first 5,000 test images come from one)
  --mnist jda-28px          the subset's 2,000 MNIST images, found in MNIST's test set, at 28 px
  --mnist jda               the subset's 16-px MNIST images as the file holds them
  --usps first-1800         USPS's first 1,800 training images (the suite's ``usps-1800``)
  --usps every-fifth        every fifth image of USPS's training then test images, as ``usps.h5``
                            renders them: the subset's USPS digits
  --usps jda                the subset's USPS images as the file holds them (dimmer, softer-edged)

The USPS test split is scored with ``--usps first-1800`` only: the other two hold 374 test images.

    python benchmarks/source_recipe_ablation.py --shared ../shared/data --seeds 0,1 --steps 2500
    python benchmarks/source_recipe_ablation.py --mnist jda --usps jda --variants plain,plain-dann --seeds 0,1,2
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


MNIST_IMAGES = ("first-2000", "first-2000-16px", "every-fifth", "jda-28px", "jda")
USPS_IMAGES = ("first-1800", "every-fifth", "jda")


def load(shared: Path, mnist: str = "first-2000", usps: str = "first-1800") -> tuple[np.ndarray | None, ...]:
    """The 2,000 source and 1,800 target images ``--mnist`` and ``--usps`` name, and USPS's 2,007
    test images (None unless the target is ``first-1800``), as uint8 (N, H, W) with labels."""
    digits = read_idx(shared / "mnist/t10k-images-idx3-ubyte.gz")
    digit_labels = read_idx(shared / "mnist/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    # the subset's file is read only where its images are asked for
    jda_mnist, jda_mnist_labels, jda_usps, jda_usps_labels = (
        read_jda(shared) if mnist.startswith("jda") or usps == "jda" else (None,) * 4)
    if mnist == "jda":
        source, source_labels = jda_mnist, jda_mnist_labels
    else:
        rows = (jda_rows(digits, jda_mnist) if mnist == "jda-28px"
                else 5 * np.arange(2000) if mnist == "every-fifth" else np.arange(2000))
        source, source_labels = digits[rows], digit_labels[rows]
        if mnist == "first-2000-16px":
            source = shrink(source, 16)
    with h5py.File(shared / "usps/usps.h5") as f:
        images = np.concatenate([f["train/data"][:], f["test/data"][:]]).reshape(-1, 16, 16)
        labels = np.concatenate([f["train/target"][:], f["test/target"][:]]).astype(np.int64)
    images = (images * 255).round().astype(np.uint8)
    if usps == "jda":
        target, target_labels = jda_usps, jda_usps_labels
    else:
        rows = 5 * np.arange(1800) if usps == "every-fifth" else np.arange(1800)
        target, target_labels = images[rows], labels[rows]
    test, test_labels = (images[7291:], labels[7291:]) if usps == "first-1800" else (None, None)
    return source, source_labels, target, target_labels, test, test_labels


def shrink(images: np.ndarray, side: int) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(im).resize((side, side), Image.Resampling.BILINEAR))
                     for im in images])


def jda_rows(digits: np.ndarray, jda_mnist: np.ndarray) -> np.ndarray:
    """The rows of MNIST's test set the subset's 16-px MNIST images were made from: for each, the
    image whose 16-px version correlates best with it (0.994 or more, every label equal)."""
    def standardized(images: np.ndarray) -> np.ndarray:
        flat = images.reshape(len(images), -1).astype(np.float64)
        return (flat - flat.mean(1, keepdims=True)) / (flat.std(1, keepdims=True) + 1e-9)
    return (standardized(jda_mnist) @ standardized(shrink(digits, 16)).T).argmax(1)


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--mnist", choices=MNIST_IMAGES, default="first-2000", help="the source images")
    parser.add_argument("--usps", choices=USPS_IMAGES, default="first-1800", help="the target images")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load(args.shared, args.mnist, args.usps)
    print(f"{'variant':<10} {'seed':>4} {'USPS test %':>12} {'USPS 1,800 %':>13} {'MNIST fit %':>12} {'s':>6}")
    for variant in args.variants.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            started = time.perf_counter()
            usps_test, usps_train, fit = train(variant, seed, args.steps, data)
            scored_test = "–" if usps_test is None else f"{100 * usps_test:.1f}"
            print(f"{variant:<10} {seed:>4} {scored_test:>12} {100 * usps_train:>13.1f} {100 * fit:>12.1f} "
                  f"{time.perf_counter() - started:>6.0f}", flush=True)


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
