"""Decoded, resized images as uint8 tensors, cached on disk and shared by every run.

A split is decoded once per (dataset fingerprint, split, size, channels); later runs read the cache
file, so no run ever decodes an image again. Processes that need one split at once decode it once:
the first claims it (``tlarena.claims``), the others wait for its files.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tlarena import claims, phases
from tlarena.data.hub import load_split
from tlarena.data.paths import cache_root
from tlarena.pairs import DataSource, MultiSource

_IN_MEMORY_LIMIT = 2 << 30   # bytes; larger caches stay memory-mapped
decode_count = 0             # images decoded by this process: the benchmarks read it


@dataclass(frozen=True)
class ImageSpec:
    """What the backbone wants: channels, height, width and the resampling filter."""

    channels: int
    height: int
    width: int
    interpolation: str = "bilinear"


@dataclass
class SplitTensors:
    images: np.ndarray   # uint8 (N, C, H, W), in memory or memory-mapped
    labels: np.ndarray   # int64 (N,)
    fingerprint: str = ""   # of the data and the decoding: what a model trained on it is keyed by
    domains: np.ndarray | None = None   # int64 (N,): which part of a pooled source each row is from

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: np.ndarray) -> "SplitTensors":
        """The rows ``indices``, in memory; a large part of a memory-mapped split is written once
        to the cache and memory-mapped too, so a big dataset never has to fit in memory."""
        indices = np.asarray(indices, dtype=np.int64)
        digest = hashlib.sha256(indices.tobytes()).hexdigest()[:16]
        fingerprint = hashlib.sha256(f"{self.fingerprint}[{digest}]".encode()).hexdigest()[:16]
        row_bytes = self.images[0].nbytes if len(self) else 0
        domains = self.domains[indices] if self.domains is not None else None
        if not isinstance(self.images, np.memmap) or len(indices) * row_bytes <= _IN_MEMORY_LIMIT:
            return SplitTensors(np.asarray(self.images[indices]), self.labels[indices], fingerprint, domains)
        path = cache_root() / "tensors" / f"subset-{fingerprint}.images.npy"
        if not path.exists():
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                            shape=(len(indices), *self.images.shape[1:]))
            for start in range(0, len(indices), 4096):
                out[start:start + 4096] = self.images[indices[start:start + 4096]]
            out.flush()
            del out
            os.replace(tmp, path)
        return SplitTensors(np.load(path, mmap_mode="r"), self.labels[indices], fingerprint, domains)


def split_tensors(source: DataSource, split: str, spec: ImageSpec, *,
                  data_dir: str | os.PathLike | None = None) -> SplitTensors:
    """The split as uint8 tensors at ``spec``'s size, from the cache when it is there.

    ``data_dir``: where local copies of hub datasets are read from (``None``: the hub only).
    """
    dataset = load_split(source, split, data_dir=data_dir)
    digest = hashlib.sha256(f"{dataset._fingerprint}|{split}|{spec}".encode()).hexdigest()[:16]
    base = cache_root() / "tensors" / f"{source.name}-{split}-{spec.height}x{spec.width}-{digest}"
    images_path, labels_path = base.with_suffix(".images.npy"), base.with_suffix(".labels.npy")

    def cached() -> bool:
        return images_path.exists() and labels_path.exists()

    claim = None if cached() else claims.wait(claims.claim_path(images_path), cached)
    if claim is not None:
        try:
            if not cached():
                phases.enter(phases.DECODING, f"{source.name} {split}")
                _decode_to(dataset, spec, images_path, labels_path)
        finally:
            claim.release()
    images = np.load(images_path, mmap_mode="r")
    if images.nbytes <= _IN_MEMORY_LIMIT:
        images = np.array(images)  # a plain in-memory copy, not a memmap
    return SplitTensors(images, np.load(labels_path), digest, _domains(source, split, data_dir))


def _domains(source: DataSource, split: str, data_dir: str | os.PathLike | None) -> np.ndarray | None:
    """The part each row of a pooled source comes from (parts are concatenated in order)."""
    if not isinstance(source, MultiSource):
        return None
    sizes = [len(load_split(part, split, data_dir=data_dir)) for part in source.parts]
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def _decode_to(dataset, spec: ImageSpec, images_path: Path, labels_path: Path) -> None:
    global decode_count
    images_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = images_path.with_name(f".{images_path.name}.{os.getpid()}")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                    shape=(len(dataset), spec.channels, spec.height, spec.width))
    mode = "RGB" if spec.channels == 3 else "L"
    resample = getattr(Image.Resampling, spec.interpolation.upper(), Image.Resampling.BILINEAR)
    labels = np.empty(len(dataset), dtype=np.int64)
    start = 0
    for chunk in dataset.iter(batch_size=512):
        for offset, (image, label) in enumerate(zip(chunk["image"], chunk["label"])):
            pixels = image.convert(mode).resize((spec.width, spec.height), resample)
            array = np.asarray(pixels, dtype=np.uint8)
            out[start + offset] = array.transpose(2, 0, 1) if array.ndim == 3 else array[None]
            labels[start + offset] = int(label)
        start += len(chunk["label"])
        decode_count += len(chunk["label"])
    out.flush()
    del out
    _save_atomic(labels_path, labels)
    os.replace(tmp, images_path)


def _save_atomic(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with open(tmp, "wb") as handle:
        np.save(handle, array)
    os.replace(tmp, path)
