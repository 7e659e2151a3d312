"""Convert dataset files you already have into the local layout ``load_split`` reads.

The result stands in for a hub dataset: a ``save_to_disk`` DatasetDict at
``<data_dir>/<owner>__<name>/`` (``.../<config>/`` with a config), with the hub dataset's column
names and feature types as a source that reads it declares them (``HubDataset.hub_features``), so a
pair reads it exactly as it would read the hub copy.

The entry point, meant to be called as is by ``tlarena data import``::

    import_data(format, hub_id, splits, data_dir, *, config=None, source=None, overwrite=False) -> Path

    tlarena data import FORMAT --hub-id ID --split NAME=PATH[,PATH] [--split NAME=PATH ...]
                        --data-dir DIR [--config CONFIG] [--overwrite]

- ``format``: one of ``FORMATS``:

  - ``idx``: MNIST-style IDX files, gzipped or not. A split names its images file and its labels
    file (``--split test=t10k-images-idx3-ubyte.gz,t10k-labels-idx1-ubyte.gz``); the magic number
    tells which is which. Images are uint8 (N, H, W), upright as stored.
  - ``hdf5``: arrays ``<group>/data`` (N, H*W) or (N, H, W) and ``<group>/target`` (N,), the group
    being the split name (USPS's ``usps.h5`` holds ``train`` and ``test``), or ``PATH::GROUP`` to
    name another; ``data`` and ``target`` at the top level are read when the group is absent.
    Flat rows are reshaped to squares in C order (upright for USPS); floats in [0, 1] are scaled to
    0-255.
  - ``npz``: ``np.load`` archives with ``images`` (N, H, W) or (N, H, W, C) and ``labels`` (N,), as
    the MNIST-M test archive stores them.
  - ``imagefolder``: folders ``<class>/*.png|jpg``; a class folder is named with a class name of the
    schema (without a source, the sorted folder names become the classes).
- ``hub_id``: the hub dataset the copy stands in for (``ylecun/mnist``); it names the folder.
- ``source``: a ``HubDataset`` that reads ``hub_id``; its hub schema is the copy's. Without one the
  copy has columns ``image`` and ``label``, with the classes the files show. The command line
  takes it from the registered pairs (``source_reading``).
- ``splits``: split name → paths, several paths being concatenated (``parse_splits`` turns the
  CLI's ``NAME=PATH[,PATH]`` arguments into this mapping).
- ``data_dir``: the data dir to write under; pass the same one when running (``--data-dir`` /
  ``TLARENA_DATA_DIR``, or ``data_dir=`` of ``load_split`` / ``split_tensors`` / ``Runner``).

It returns the folder written. An existing folder is refused unless ``overwrite``; the folder
appears whole or not at all (written aside, then renamed).
"""
from __future__ import annotations

import gzip
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import datasets
import numpy as np
from PIL import Image

from tlarena.data.hub import IMAGE_SUFFIXES
from tlarena.data.paths import dataset_dir
from tlarena.pairs import DataSource, HubDataset, MultiSource

FORMATS = ("idx", "hdf5", "npz", "imagefolder")


def import_data(format: str, hub_id: str, splits: Mapping[str, Sequence[str | os.PathLike]],
                data_dir: str | os.PathLike, *, config: str | None = None,
                source: HubDataset | None = None, overwrite: bool = False) -> Path:
    """Convert ``splits`` (name → files) in ``format`` into the local copy of ``hub_id``."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if not splits:
        raise ValueError("no splits given: pass at least one NAME=PATH")
    if source is not None and source.path != hub_id:
        raise ValueError(f"source {source.name!r} reads {source.path}, not {hub_id}")
    out = dataset_dir(data_dir, hub_id, config)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    read = {"idx": _read_idx, "hdf5": _read_hdf5, "npz": _read_npz, "imagefolder": _read_folders}[format]
    contents = {name: read([Path(p) for p in paths], name) for name, paths in splits.items()}
    schema = source.hub_features() if source is not None else datasets.Features({
        "image": datasets.Image(), "label": datasets.ClassLabel(names=_class_names(format, contents))})
    image_column, label_column = list(schema)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Rows stream through a scratch cache, so a large split never sits in memory whole.
    with tempfile.TemporaryDirectory(prefix=".tlarena-import-", dir=out.parent) as scratch:
        built = {}
        for name, (images, labels, described) in contents.items():
            labels = _label_ids(labels, schema[label_column], name)
            # No lists in gen_kwargs: datasets would take each list item for a shard of its own.
            built[name] = datasets.Dataset.from_generator(
                _rows, features=schema, cache_dir=scratch,
                gen_kwargs={"images": images if isinstance(images, np.ndarray) else tuple(images),
                            "labels": np.asarray(labels), "columns": (image_column, label_column)})
            built[name].info.description = f"imported by tlarena from {format}: {described}"
        _save_atomically(datasets.DatasetDict(built), out)
    return out


def source_reading(hub_id: str, sources: Iterable[DataSource]) -> HubDataset | None:
    """One of ``sources`` (pooled ones looked into) that reads ``hub_id``, or None. Sources of one
    hub id must agree on its schema: a copy serves them all."""
    reading = [s for s in _hub_datasets(sources) if s.path == hub_id]
    for other in reading[1:]:
        if other.hub_features() != reading[0].hub_features():
            raise ValueError(f"sources {reading[0].name!r} and {other.name!r} read {hub_id} with different "
                             f"columns: {dict(reading[0].hub_features())} and {dict(other.hub_features())}")
    return reading[0] if reading else None


def _hub_datasets(sources: Iterable[DataSource]) -> Iterable[HubDataset]:
    for source in sources:
        if isinstance(source, MultiSource):
            yield from _hub_datasets(source.parts)
        elif isinstance(source, HubDataset):
            yield source


def parse_splits(arguments: Iterable[str]) -> dict[str, list[str]]:
    """``["train=a.gz,b.gz", "test=c.gz"]`` → ``{"train": ["a.gz", "b.gz"], "test": ["c.gz"]}``."""
    splits: dict[str, list[str]] = {}
    for argument in arguments:
        name, sep, paths = argument.partition("=")
        if not sep or not name.strip() or not paths.strip():
            raise ValueError(f"--split {argument!r}: expected NAME=PATH[,PATH]")
        splits.setdefault(name.strip(), []).extend(p for p in paths.split(",") if p)
    return splits


# --- readers: each returns (images, labels, a description of what was read) --------------------

def _read_idx(paths: list[Path], split: str):
    images, labels = [], []
    for path in paths:
        data = _open(path)
        magic = int.from_bytes(data[:4], "big")
        if magic == 2051:  # images: 16-byte header, then rows of uint8 pixels
            n, rows, cols = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
            images.append(np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols))
        elif magic == 2049:  # labels: 8-byte header
            labels.append(np.frombuffer(data, np.uint8, offset=8).astype(np.int64))
        else:
            raise ValueError(f"{path}: not an IDX images (2051) or labels (2049) file (magic {magic})")
    if len(images) != len(labels) or not images:
        raise ValueError(f"split {split!r}: give each IDX images file with its labels file "
                         f"(got {len(images)} images and {len(labels)} labels files)")
    return _joined(images, labels, paths, split)


def _open(path: Path) -> bytes:
    with open(path, "rb") as handle:
        head = handle.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as handle:
        return handle.read()


def _read_hdf5(paths: list[Path], split: str):
    import h5py  # an optional dependency: only this format needs it

    images, labels = [], []
    for given in paths:
        path, _, group = str(given).partition("::")
        with h5py.File(path, "r") as handle:
            prefix = group or split
            node = handle[prefix] if prefix in handle else handle
            if "data" not in node or "target" not in node:
                raise ValueError(f"{path}: no {prefix}/data and {prefix}/target (nor data and target)")
            data, target = np.asarray(node["data"]), np.asarray(node["target"])
        if data.ndim == 2:
            side = int(round(data.shape[1] ** 0.5))
            if side * side != data.shape[1]:
                raise ValueError(f"{path}: rows of {data.shape[1]} values are not square images")
            data = data.reshape(len(data), side, side)  # C order: upright for USPS
        images.append(_to_uint8(data))
        labels.append(target.reshape(-1).astype(np.int64))
    return _joined(images, labels, paths, split)


def _read_npz(paths: list[Path], split: str):
    images, labels = [], []
    for path in paths:
        with np.load(path) as archive:
            if "images" not in archive or "labels" not in archive:
                raise ValueError(f"{path}: expected arrays 'images' and 'labels', found {archive.files}")
            images.append(_to_uint8(archive["images"]))
            labels.append(archive["labels"].reshape(-1).astype(np.int64))
    return _joined(images, labels, paths, split)


def _read_folders(paths: list[Path], split: str):
    files = sorted(f for folder in paths for f in Path(folder).rglob("*")
                   if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
    if not files:
        raise ValueError(f"split {split!r}: no images under {[str(p) for p in paths]}")
    # Labels stay class names here; they become ids once the schema's classes are known.
    return files, [f.parent.name for f in files], _described(paths)


def _joined(images, labels, paths, split):
    images, labels = np.concatenate(images), np.concatenate(labels)
    if len(images) != len(labels):
        raise ValueError(f"split {split!r}: {len(images)} images but {len(labels)} labels")
    return images, labels, _described(paths)


def _described(paths) -> str:
    return ", ".join(str(p) for p in paths)


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating) and array.max(initial=0) <= 1.0:
        array = array * 255.0
    return np.clip(np.rint(array), 0, 255).astype(np.uint8)


# --- encoding ----------------------------------------------------------------------------------

def _class_names(format: str, contents) -> list[str]:
    if format == "imagefolder":
        return sorted({name for _, labels, _ in contents.values() for name in labels})
    top = max(int(np.max(labels)) for _, labels, _ in contents.values())
    return [str(i) for i in range(top + 1)]


def _label_ids(labels, classes: datasets.ClassLabel, split: str) -> list[int]:
    if len(labels) and isinstance(labels[0], str):
        unknown = sorted(set(labels) - set(classes.names))
        if unknown:
            raise ValueError(f"split {split!r}: folders {unknown} are not classes of the schema "
                             f"({classes.names})")
        return [classes.str2int(name) for name in labels]
    labels = np.asarray(labels, dtype=np.int64)
    bad = np.unique(labels[(labels < 0) | (labels >= classes.num_classes)])
    if bad.size:
        raise ValueError(f"split {split!r}: labels {bad.tolist()} are outside 0..{classes.num_classes - 1}")
    return labels.tolist()


def _rows(images, labels, columns):
    image_column, label_column = columns
    for image, label in zip(images, labels):
        yield {image_column: _encoded(image), label_column: int(label)}


def _encoded(image) -> dict:
    if isinstance(image, Path):  # an image file as it is: no re-encoding
        return {"bytes": image.read_bytes(), "path": None}
    buffer = io.BytesIO()
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    Image.fromarray(image).save(buffer, format="PNG")
    return {"bytes": buffer.getvalue(), "path": None}


def _save_atomically(dataset: datasets.DatasetDict, out: Path) -> None:
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    dataset.save_to_disk(str(tmp))
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
