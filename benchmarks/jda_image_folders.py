"""Write the JDA MNIST → USPS subset of ../shared as two image folders that ``tlarena run`` reads.

The shallow-DA literature's "2,000 / 1,800 images" (``jda_mnist_usps/MNIST_vs_USPS.mat``: 2,000
MNIST test images resized to 16 × 16, and 1,800 USPS images, every fifth of USPS's training then
test images (0, 5, ..., 8,995), dimmer and softer-edged than ``usps.h5`` renders them) as PNGs,
``<out>/jda-mnist-2000/<digit>/<index>.png`` and ``<out>/jda-usps-1800/<digit>/<index>.png``, so
the harness trains on exactly the images a plain loop reads from the file
(``source_recipe_ablation.py --mnist jda --usps jda``):

    python benchmarks/jda_image_folders.py --out .repro-results/jda
    tlarena run --source-folder .repro-results/jda/jda-mnist-2000 --target-folder .repro-results/jda/jda-usps-1800 ...

Each folder is one split: the source keeps a class-stratified 20 % for validation, and in ``uda``
the target is scored on the 1,800 unlabeled images adapted to (transductive), as the plain loop is.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))   # the helpers beside this script
from _reproduction import SHARED, read_jda  # noqa: E402

FOLDERS = ("jda-mnist-2000", "jda-usps-1800")


def write_folders(shared: Path, out: Path) -> list[Path]:
    """Both domains' images under ``out``, one folder per digit; returns the two domain folders."""
    mnist, mnist_labels, usps, usps_labels = read_jda(shared)
    written = []
    for name, images, labels in zip(FOLDERS, (mnist, usps), (mnist_labels, usps_labels)):
        for index, (image, label) in enumerate(zip(images, labels)):
            path = out / name / str(label) / f"{index:04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.ascontiguousarray(image)).save(path)
        written.append(out / name)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--out", type=Path, default=Path(".repro-results/jda"))
    args = parser.parse_args()
    if not (args.shared / "jda_mnist_usps" / "MNIST_vs_USPS.mat").is_file():
        parser.exit(2, f"error: {args.shared}/jda_mnist_usps/MNIST_vs_USPS.mat not found (--shared)\n")
    for folder in write_folders(args.shared, args.out):
        print(f"{folder}: {sum(1 for _ in folder.rglob('*.png'))} images")


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
