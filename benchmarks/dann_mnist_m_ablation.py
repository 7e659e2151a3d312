"""Which part of the DANN recipe holds its MNIST → MNIST-M gain on the data ../shared holds.

docs/reproduction.md measures DANN + 8.9 points over source-only on ``mnist-test-a->mnist-m-test-b``
(3,600 source images, 3,599 unlabeled target images), where the paper gains + 24 on 60,000 / 59,001
and the issue asks + 15. This script trains outside the harness on the same images and parts,
changing one part of the recipe at a time: the network, the optimizer and its schedule, the
discriminator, the length. Every variant trains from random weights, as the paper does, twice with
the same seed: source-only (labeled source batches alone) and DANN (the same, plus the domain loss
of ``tlarena.adaptation`` through the gradient reversal layer with the paper's λ_p), so each gain is
measured against its own baseline. Scored on the 902 held-out target images the harness scores.
A network with batch norm is also scored with its statistics re-estimated on the unlabeled target
images (AdaBN, ``tlarena.adaptation.reestimate_batch_norm``), source-only and DANN alike: DANN's
batches mix both domains, so part of its plain gain there is these statistics, not the adversarial
alignment; the gain with target statistics on both sides is what the alignment adds beyond them.

Variants (name: network, optimizer, schedule, discriminator, steps):

  paper        dann-cnn  SGD 0.01 momentum 0.9, μ_p = μ₀ / (1 + 10 p)^0.75   100 × 1     2,500
  lenet        lenet     as paper                                            1024 × 2    2,500
  lenet-bn     lenet-bn  as paper                                            1024 × 2    2,500
  lenet-adam   lenet     Adam 1e-3, constant                                 1024 × 2    2,500
  lenet-bn-adam lenet-bn Adam 1e-3, constant                                 1024 × 2    2,500
  lenet-adam-10k lenet   Adam 1e-3, constant                                 1024 × 2   10,000
  dtn          dtn       as paper                                            1024 × 2    2,500

dann-cnn is the paper's MNIST network (conv 5×5 32 → pool → conv 5×5 48 → pool; the domain
classifier on those conv features; label predictor fc 100 → fc 100 → 10); lenet is tlarena's
``lenet``; lenet-bn is it with batch norm after each conv and the fc layer, the change that public
DANN reimplementations credit for their higher MNIST-M figures; dtn is tlarena's ``dtn``, CDAN's
digits network, which has batch norm throughout.

``--target-images 450,900,1800`` trains DANN on only that many of the unlabeled target images, and
``--source-images`` both runs on only that many of the labeled source images (nested subsets; the
other side and the scoring stay the same), one table per number: how the gain grows with the data,
the part of the paper's setting (60,000 / 59,001 images) that ``../shared`` cannot match.

MNIST's test set holds two groups of writers: its first 5,000 images come from NIST's training set,
which MNIST's authors call cleaner and easier, the rest from NIST's test set. The suite's halves
give the source almost only the first group and the target mostly the second; ``--split
interleaved`` takes the source from the even indices and the target from the odd ones, so both sides
draw on both groups. The script also prints each variant's top-1 on the held-out target's own MNIST
digits, without the photo: the shift the digits alone make.

MNIST-M's 32-px images hold each 28-px MNIST digit at about its own size; the suite brings MNIST to
the network's 32 px by bilinear resizing, which makes the source's digits 32 / 28 times as large as
the target's. ``--mnist-to-32px pad`` pads them with 2 black pixels on each side instead.

MNIST-M's images hold the photo inverted under every MNIST pixel above 0, however faint (checked
pixel by pixel: such pixels sit 0.999 or more of the way from the photo to its inversion), so its digits
are MNIST's binarized, thicker than the grey anti-aliased strokes the source shows.
``--mnist-strokes binary`` gives the source those binary strokes.

``--alignment`` also measures, after each run, how far it aligned the domains' features: its own
discriminator's accuracy, a fresh linear domain probe's (50 % is aligned), and a linear probe of the
target's classes fitted with the target labels no run trains on (what the features hold).

    python benchmarks/dann_mnist_m_ablation.py --shared ../shared/data --workers 2
"""
from __future__ import annotations

import argparse
import functools
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np
import timm
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from torch import nn

import tlarena_plugins.backbones  # noqa: F401  registers lenet in timm
from tlarena.adaptation import (DomainDiscriminator, batch_norm_layers, domain_adversarial_loss, reestimate_batch_norm,
                                reversal_schedule, reverse_gradient)
from tlarena.partition import Cut

sys.path.insert(0, str(Path(__file__).resolve().parent))   # the helpers beside this script
from _reproduction import read_idx  # noqa: E402

VARIANTS = {  # name: (network, optimizer, discriminator (width, layers), steps)
    "paper": ("dann-cnn", "sgd", (100, 1), 2500),
    "lenet": ("lenet", "sgd", (1024, 2), 2500),
    "lenet-bn": ("lenet-bn", "sgd", (1024, 2), 2500),
    "lenet-adam": ("lenet", "adam", (1024, 2), 2500),
    "lenet-bn-adam": ("lenet-bn", "adam", (1024, 2), 2500),
    "lenet-adam-10k": ("lenet", "adam", (1024, 2), 10000),
    "dtn": ("dtn", "sgd", (1024, 2), 2500),
}
BATCH = 64   # per domain, as the harness's digits runs


SPLITS = {  # name: (MNIST test indices of the source, MNIST-M test indices of the target)
    "halves": (np.arange(0, 4500), np.arange(4500, 9001)),    # the suite's mnist-test-a->mnist-m-test-b
    "interleaved": (np.arange(0, 9000, 2), np.arange(1, 9001, 2)),
}


@functools.lru_cache   # once per worker process, not once per job
def load(shared: Path, split: str = "halves", to_32px: str = "resize", strokes: str = "grey"):
    """The pair's sides as the suite cuts them: the ``split``'s MNIST test images (``strokes`` grey
    or binary, to 32 px by ``to_32px``, repeated over three channels) and MNIST-M test images, both
    scaled to [-1, 1] (lenet's mean and std); source fit part, target adaptation part (its labels only for
    ``--alignment``'s probe, never for training), target held-out part, and the MNIST digits under
    the held-out target images (MNIST-M image i is MNIST test image i on a photo)."""
    source_indices, target_indices = SPLITS[split]
    digits = read_idx(shared / "mnist/t10k-images-idx3-ubyte.gz")
    if strokes == "binary":   # every inked pixel full white: the mask MNIST-M inverts its photo under
        digits = np.where(digits > 0, 255, 0).astype(np.uint8)
    if to_32px == "pad":   # the digit at its own size, as MNIST-M's 32-px images hold it
        digits = np.pad(digits, ((0, 0), (2, 2), (2, 2)))
    else:                  # the suite's: bilinear, the digit 32 / 28 times its size
        digits = np.stack([np.asarray(Image.fromarray(im).resize((32, 32), Image.Resampling.BILINEAR))
                           for im in digits])
    digits = to_unit_range(digits).unsqueeze(1).expand(-1, 3, -1, -1)
    mnist_labels = read_idx(shared / "mnist/t10k-labels-idx1-ubyte.gz")[source_indices].astype(np.int64)
    arrays = np.load(shared / "mnist_m/mnist_m_test.npz")
    target_labels = arrays["labels"][target_indices]
    target = to_unit_range(arrays["images"][target_indices]).permute(0, 3, 1, 2)
    fit, cut = Cut.of(mnist_labels).kept, Cut.of(target_labels)
    return (digits[source_indices[fit]].contiguous(), torch.from_numpy(mnist_labels[fit]),
            target[cut.kept].contiguous(), torch.from_numpy(target_labels[cut.kept]),
            target[cut.held].contiguous(), torch.from_numpy(target_labels[cut.held]),
            digits[target_indices[cut.held]].contiguous())


def to_unit_range(pixels: np.ndarray) -> torch.Tensor:
    """uint8 pixels to [-1, 1]: lenet's mean and std of 0.5."""
    return torch.from_numpy(pixels).float().div(255).sub(0.5).div(0.5)


class Net(nn.Module):
    """features (where the discriminator looks) → head (the label predictor)."""

    def __init__(self, features: nn.Module, head: nn.Module, feature_dim: int):
        super().__init__()
        self.features, self.head, self.feature_dim = features, head, feature_dim


def network(name: str) -> Net:
    if name == "dann-cnn":
        features = nn.Sequential(nn.Conv2d(3, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(32, 48, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        head = nn.Sequential(nn.Linear(48 * 5 * 5, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10))
        return Net(features, head, 48 * 5 * 5)
    if name == "lenet-bn":
        features = nn.Sequential(nn.Conv2d(3, 20, 5), nn.BatchNorm2d(20), nn.MaxPool2d(2), nn.ReLU(),
                                 nn.Conv2d(20, 50, 5), nn.BatchNorm2d(50), nn.Dropout2d(0.5), nn.MaxPool2d(2),
                                 nn.ReLU(), nn.Flatten(), nn.Linear(50 * 5 * 5, 500), nn.BatchNorm1d(500),
                                 nn.ReLU(), nn.Dropout(0.5))
        return Net(features, nn.Linear(500, 10), 500)
    model = timm.create_model(name, num_classes=10)   # tlarena's lenet or dtn
    features = nn.Sequential(model.features, model.neck)   # the trunk, then the neck to num_features
    return Net(features, model.get_classifier(), model.num_features)


def nested(count: int, images: int | None) -> slice | torch.Tensor:
    """Indices of the first ``images`` of one fixed shuffle of ``count`` images, so that each smaller
    set lies inside every larger one; all of them, in order (the runs without the options), when
    ``images`` is None or covers them."""
    if images is None or images >= count:
        return slice(None)
    return torch.randperm(count, generator=torch.Generator().manual_seed(0))[:images]


@torch.no_grad()
def accuracy(net: Net, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    predictions = torch.cat([net.head(net.features(x[i:i + 500])).argmax(1) for i in range(0, len(x), 500)])
    net.train()
    return float((predictions == y).float().mean())


class Scores(NamedTuple):
    top1: float                  # on the held-out target images
    adabn: float | None          # the same with target batch statistics (batch-norm networks only)
    plain: float                 # on the MNIST digits under the held-out target images
    alignment: tuple | None = None   # --alignment: see ``alignment``


def train(variant: str, adversarial: bool, seed: int, data, steps: int | None,
          side: str | None = None, images: int | None = None, probe: bool = False) -> Scores:
    """Target top-1 after training ``variant`` as source-only or as DANN, on ``images`` of the
    ``side`` ("source" or "target"; all images when None); for a batch-norm network, its top-1
    with the statistics re-estimated on the unlabeled target images (None otherwise); and its
    top-1 on the plain MNIST digits under the held-out target images (the shift without the photo);
    with ``probe``, ``alignment``'s measures of the trained features too."""
    name, optimizer_name, (width, layers), variant_steps = VARIANTS[variant]
    steps = steps or variant_steps
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    source, labels, target, target_labels, held, held_labels, held_digits = data
    keep = nested(len(labels), images if side == "source" else None)
    source, labels = source[keep], labels[keep]
    target_keep = nested(len(target), images if side == "target" else None)
    target, target_labels = target[target_keep], target_labels[target_keep]
    net = network(name)
    discriminator = DomainDiscriminator(net.feature_dim, width, layers)
    params = [*net.parameters(), *discriminator.parameters()] if adversarial else list(net.parameters())
    if optimizer_name == "adam":
        optimizer = torch.optim.Adam(params, lr=1e-3)
        factor = lambda p: 1.0   # noqa: E731
    else:
        optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-4)
        factor = lambda p: 1 / (1 + 10 * p) ** 0.75   # noqa: E731  the paper's annealing
    generator, base_lr = torch.Generator().manual_seed(seed), optimizer.defaults["lr"]
    for step in range(steps):
        p = step / steps
        for group in optimizer.param_groups:
            group["lr"] = base_lr * factor(p)
        s = torch.randint(0, len(labels), (BATCH,), generator=generator)
        t = torch.randint(0, len(target), (BATCH,), generator=generator)
        if adversarial:   # source and target in one batch, as tlarena's DANN
            features = net.features(torch.cat([source[s], target[t]]))
            reversed_features = reverse_gradient(features, reversal_schedule(p))
            loss = (F.cross_entropy(net.head(features[:BATCH]), labels[s])
                    + domain_adversarial_loss(discriminator, reversed_features[:BATCH], reversed_features[BATCH:]))
        else:
            loss = F.cross_entropy(net.head(net.features(source[s])), labels[s])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    top1, plain = accuracy(net, held, held_labels), accuracy(net, held_digits, held_labels)
    aligned = alignment(net, discriminator if adversarial else None, source, target, target_labels,
                        held, held_labels) if probe else None
    if not batch_norm_layers(net):
        return Scores(top1, None, plain, aligned)
    reestimate_batch_norm(net.features, target.split(500))
    return Scores(top1, accuracy(net, held, held_labels), plain, aligned)


@torch.no_grad()
def alignment(net: Net, discriminator: nn.Module | None, source, target, target_labels, held,
              held_labels) -> tuple[float | None, float, float]:
    """How far training aligned the domains' features, and how much of the target's classes they hold:
    the run's own discriminator's accuracy on the training images (None for source-only, which has
    none); a fresh linear domain probe's, fitted on half of those images and scored on the other half;
    and a linear probe of the target's classes, fitted on the adaptation images with the labels no
    run trains on and scored on the held-out images: what a linear read-out of these features could
    score on the target, were its labels known."""
    net.eval()
    features = [torch.cat([net.features(x[i:i + 500]) for i in range(0, len(x), 500)]) for x in (source, target, held)]
    net.train()
    domains = np.r_[np.ones(len(source)), np.zeros(len(target))]
    both = torch.cat(features[:2])
    own = None
    if discriminator is not None:
        discriminator.eval()
        own = float(((discriminator(both).squeeze(1) > 0).numpy() == domains).mean())
    scale = StandardScaler().fit(both.numpy())
    x = scale.transform(both.numpy())
    fit, scored = np.array_split(np.random.default_rng(0).permutation(len(domains)), 2)
    probe = LogisticRegression(C=0.1, max_iter=2000)
    fresh = probe.fit(x[fit], domains[fit]).score(x[scored], domains[scored])
    classes = probe.fit(scale.transform(features[1].numpy()), target_labels.numpy()).score(
        scale.transform(features[2].numpy()), held_labels.numpy())
    return own, float(fresh), float(classes)


def _job(args):
    variant, adversarial, seed, data, steps, side, images, probe = args
    started = time.perf_counter()
    scores = train(variant, adversarial, seed, load(*data), steps, side, images, probe)
    return variant, adversarial, seed, images, scores, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--steps", type=int, help="override every variant's steps (a quick check)")
    subsets = parser.add_mutually_exclusive_group()
    subsets.add_argument("--target-images", help="DANN adapts to only this many of the unlabeled target "
                         "images, one table per number (comma-separated; e.g. 450,900,1800)")
    subsets.add_argument("--source-images", help="both runs train on only this many of the labeled source "
                         "images, one table per number (comma-separated)")
    parser.add_argument("--split", choices=SPLITS, default="halves",
                        help="which MNIST test images are the source and which MNIST-M test images the target: "
                        "halves, the suite's pair (source 0-4,499, target 4,500-9,000), or interleaved (source "
                        "the even indices, target the odd), so that both sides draw on MNIST's two test writer groups")
    parser.add_argument("--mnist-to-32px", choices=("resize", "pad"), default="resize",
                        help="how MNIST's 28-px digits become 32 px: resize (bilinear, the suite's) or pad "
                        "(2 black pixels each side: the digit at its own size, as MNIST-M's images hold it)")
    parser.add_argument("--mnist-strokes", choices=("grey", "binary"), default="grey",
                        help="MNIST's digits as they are (grey, the suite's) or binary (every pixel above 0 "
                        "white: the mask under which MNIST-M's images hold the photo inverted)")
    parser.add_argument("--alignment", action="store_true",
                        help="also print how far each run aligned the domains: its discriminator's accuracy, a "
                        "fresh linear domain probe's, and a linear probe of the target's classes on its features")
    parser.add_argument("--workers", type=int, default=1, help="processes side by side, one torch thread each")
    args = parser.parse_args()
    if not (args.shared / "mnist_m/mnist_m_test.npz").exists():
        raise SystemExit(f"MNIST-M not found under {args.shared}; pass --shared")
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}; known: {', '.join(VARIANTS)}")
    side = "target" if args.target_images else "source" if args.source_images else None
    data = args.shared, args.split, args.mnist_to_32px, args.mnist_strokes
    available = len(load(*data)[2 if side == "target" else 1])
    sizes = image_counts(side, args.target_images or args.source_images, available, variants)
    jobs = [(v, adversarial, int(seed), data, args.steps, side, images, args.alignment) for v in variants
            for seed in args.seeds.split(",") for adversarial, images in runs(side, sizes)]
    scores: dict = {}
    with ProcessPoolExecutor(args.workers) as pool:
        for variant, adversarial, seed, images, run_scores, seconds in pool.map(_job, jobs):
            scores[variant, seed, adversarial, images] = run_scores
            run = "dann" if adversarial else "source-only"
            print(f"  {variant} seed {seed} {run}{f' on {images} {side} images' if images else ''}: "
                  f"{100 * run_scores.top1:.1f} % ({seconds:.0f} s)", flush=True)
    for images in sizes:
        if side == "target":
            print(f"DANN adapting to {images:,} of the {available:,} unlabeled target images:")
        elif side == "source":
            print(f"Both runs on {images:,} of the {available:,} labeled source images:")
        baseline = None if side == "target" else images
        print_table({(variant, seed): (scores[variant, seed, False, baseline], scores[variant, seed, True, images])
                     for variant, seed, adversarial, key in scores if not adversarial and key == baseline})
        if args.alignment:
            print_alignment({key: run_scores for key, run_scores in scores.items() if key[3] in (baseline, images)})
    if side is None:
        print_plain_digits(scores)


def runs(side: str | None, sizes: list[int | None]) -> list[tuple[bool, int | None]]:
    """(DANN?, images) per seed. Source-only never trains on target images (it only draws their
    indices, which keeps its source batches DANN's), so under --target-images it runs once per seed."""
    if side == "target":
        return [(False, None), *((True, n) for n in sizes)]
    return [(adversarial, n) for n in sizes for adversarial in (False, True)]


def image_counts(side: str | None, option: str | None, available: int, variants: list[str]) -> list[int | None]:
    """--target-images / --source-images as numbers of images ([None]: all of them), checked before
    any training."""
    if side is None:
        return [None]
    try:
        sizes = [int(n) for n in option.split(",")]
    except ValueError:
        raise SystemExit(f"--{side}-images takes numbers of images, comma-separated: not {option!r}") from None
    if any(not 0 < n <= available for n in sizes):
        raise SystemExit(f"--{side}-images: each number from 1 to {available:,} (the {side}'s training images)")
    with_batch_norm = [v for v in variants if side == "target" and batch_norm_layers(network(VARIANTS[v][0]))]
    if with_batch_norm:   # source-only's AdaBN would see other images than DANN's
        raise SystemExit(f"--target-images: not for the batch-norm variants {', '.join(with_batch_norm)}")
    return sizes


def print_table(pairs: dict) -> None:
    """One row per variant and seed, then each variant's mean where it has more than one seed. The
    last three columns score batch-norm networks with target statistics (– for the others)."""
    _print_row("variant", "seed", [name for name, _ in COLUMNS])
    rows: dict = {}
    for (variant, seed), (base, dann) in pairs.items():
        row = [base.top1, dann.top1, dann.top1 - base.top1] + (
            [None] * 3 if base.adabn is None else [base.adabn, dann.adabn, dann.adabn - base.adabn])
        rows.setdefault(variant, []).append(row)
        _print_row(variant, str(seed), row)
    for variant, seeds in rows.items():
        if len(seeds) > 1:
            _print_row(variant, "mean", [None if column[0] is None else sum(column) / len(column)
                                         for column in zip(*seeds)])


def print_plain_digits(scores: dict) -> None:
    """Each variant's mean top-1 on the MNIST digits under the held-out target images: how far the
    target's digits alone are from the source's, without the photo."""
    plain: dict = {}   # variant → DANN? → top-1 of each seed
    for (variant, _, adversarial, _), run_scores in scores.items():
        plain.setdefault(variant, {}).setdefault(adversarial, []).append(run_scores.plain)
    print("Top-1 % on the held-out target's own MNIST digits, without the photo (mean over seeds):")
    for variant, runs in plain.items():
        print(f"  {variant}: source-only {100 * np.mean(runs[False]):.1f}, DANN {100 * np.mean(runs[True]):.1f}")


def print_alignment(scores: dict) -> None:
    """Per run (of one table's number of images), its top-1 on the held-out target beside
    ``alignment``'s three probes, then each variant's means: a domain probe near 50 % means aligned
    features."""
    print("Alignment, %: the run's own discriminator and a fresh domain probe (50 = aligned),\n"
          "and a class probe of the target (fitted on its adaptation images' labels):")
    print(f"{'variant':<15} {'seed':>4} {'run':<11} {'top-1':>6} {'discriminator':>13} "
          f"{'domain probe':>12} {'class probe':>11}")
    means: dict = {}
    for (variant, seed, adversarial, _), run_scores in scores.items():
        run = "dann" if adversarial else "source-only"
        own, fresh, classes = run_scores.alignment
        row = [run_scores.top1, own, fresh, classes]
        means.setdefault((variant, run), []).append(row)
        _print_alignment_row(variant, str(seed), run, row)
    for (variant, run), rows in means.items():
        if len(rows) > 1:
            _print_alignment_row(variant, "mean", run, [None if column[0] is None else float(np.mean(column))
                                                        for column in zip(*rows)])


def _print_alignment_row(variant: str, seed: str, run: str, row: list) -> None:
    cells = ["–" if value is None else f"{100 * value:.1f}" for value in row]
    print(f"{variant:<15} {seed:>4} {run:<11} {cells[0]:>6} {cells[1]:>13} {cells[2]:>12} {cells[3]:>11}")


COLUMNS = (("source-only", 11), ("DANN", 6), ("gain", 6), ("+AdaBN: source-only", 19), ("DANN", 6), ("gain", 6))


def _print_row(variant: str, seed: str, row: list) -> None:
    """Scores as percentages, gains signed, – where a network has no batch norm; labels as they are."""
    cells = [value if isinstance(value, str) else "–" if value is None
             else f"{100 * value:{'+' if name == 'gain' else ''}.1f}" for value, (name, _) in zip(row, COLUMNS)]
    print(f"{variant:<15} {seed:>4} " + " ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, COLUMNS)))


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
