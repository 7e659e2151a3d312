"""What the reproduction scripts (``benchmarks/reproduce_*.py``) share: running the CLI, and
rewriting a script's own generated block of docs/reproduction.md; and the readers of ../shared's
MNIST (IDX) and of its JDA MNIST → USPS subset, for the scripts that train outside the harness."""
from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]          # the checkout
SHARED = ROOT.parent / "shared" / "data"            # the real data beside it


def tlarena(args: list[str], env: dict) -> None:
    """``tlarena ARGS`` in a child process of this Python; a failure stops the script."""
    subprocess.run([sys.executable, "-m", "tlarena", *args], env=env, check=True)


def beside(results: Path, name: str) -> Path:
    """Where a script keeps its notes on a records folder (wall time, load): beside the folder, not
    in it, where ``tlarena show`` would read them as a corrupt record. A note an older version left
    inside the folder is moved out."""
    path = results.parent / f"{results.name}.{name}"
    inside = results / name
    if inside.exists() and not path.exists():
        inside.rename(path)
    return path


def replace_block(doc: Path, block: str, begin: str, end: str, title: str = "# Reproduction") -> None:
    """Replace the part of ``doc`` from ``begin`` to ``end`` with ``block`` (which holds both
    markers); a doc without them gets the block appended. Text outside the markers, written by hand,
    and other scripts' blocks are left as they are."""
    text = doc.read_text() if doc.exists() else f"{title}\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def read_idx(path: Path) -> np.ndarray:
    """A gzipped IDX file: images as uint8 (N, rows, cols), labels as uint8 (N,)."""
    data = gzip.open(path).read()
    if int.from_bytes(data[:4], "big") == 2051:
        n, rows, cols = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols)
    return np.frombuffer(data, np.uint8, offset=8)


def read_jda(shared: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The JDA MNIST → USPS subset (``jda_mnist_usps/MNIST_vs_USPS.mat``): 2,000 MNIST and 1,800 USPS
    images, both 16 × 16, as uint8 (N, 16, 16) white on black, with labels 0-9. Its rows are upright
    in C order; its labels are stored as digit + 1, and its pixels as floats in [0, 1]."""
    with h5py.File(shared / "jda_mnist_usps" / "MNIST_vs_USPS.mat") as f:   # MATLAB v7.3 is HDF5

        def images(key: str) -> np.ndarray:
            return np.clip(np.round(f[key][:] * 255), 0, 255).astype(np.uint8).reshape(-1, 16, 16)

        def labels(key: str) -> np.ndarray:
            return f[key][:].ravel().astype(np.int64) - 1

        return images("Xs"), labels("Ys"), images("Xt"), labels("Yt")
