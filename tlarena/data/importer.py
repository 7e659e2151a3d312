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
    schema (without a source, the sorted folder names become the classes). For a hub id whose
    sources select a domain by a column (Office-Home, PACS, DomainNet: ``domains``), the layout is
    ``<domain>/<class>/*.png|jpg`` and the domain folder's name fills that column: it must be one
    of the values the sources select, compared without regard to case, spaces, ``_`` and ``-``
    (the official Office-Home archive's ``Real_World`` is the suite's ``Real World``).
- ``hub_id``: the hub dataset the copy stands in for (``ylecun/mnist``); it names the folder.
- ``source``: a ``HubDataset`` that reads ``hub_id``; its hub schema is the copy's. Without one the
  copy has columns ``image`` and ``label``, with the classes the files show. The command line
  takes it from the registered pairs (``source_reading``).
- ``domains``: column → the values the sources reading ``hub_id`` select rows by
  (``domain_values`` finds them); the copy gets those columns, filled from domain folders.
- ``log``: called with a line for each domain folder read under another name, and each domain
  the files leave out.
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
import re
from typing import Callable, Iterable, Mapping, Sequence

import datasets
import numpy as np
from PIL import Image

from tlarena.data.hub import IMAGE_SUFFIXES
from tlarena.data.paths import dataset_dir
from tlarena.pairs import DataSource, HubDataset, MultiSource

FORMATS = ("idx", "hdf5", "npz", "imagefolder")


def import_data(format: str, hub_id: str, splits: Mapping[str, Sequence[str | os.PathLike]],
                data_dir: str | os.PathLike, *, config: str | None = None,
                source: HubDataset | None = None, overwrite: bool = False,
                domains: Mapping[str, Sequence[str]] | None = None,
                log: Callable[[str], None] = lambda line: None) -> Path:
    """Convert ``splits`` (name → files) in ``format`` into the local copy of ``hub_id``."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if not splits:
        raise ValueError("no splits given: pass at least one NAME=PATH")
    if source is not None and source.path != hub_id:
        raise ValueError(f"source {source.name!r} reads {source.path}, not {hub_id}")
    if domains and format != "imagefolder":
        raise ValueError(f"{hub_id} selects domains by its {', '.join(domains)} column: import it from "
                         f"image folders <domain>/<class>/*.jpg (format imagefolder), not {format}")
    _check_paths(format, splits)
    out = dataset_dir(data_dir, hub_id, config)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    if domains:
        contents = {name: _read_domain_folders([Path(p) for p in paths], name, hub_id, domains, log)
                    for name, paths in splits.items()}
    else:
        read = {"idx": _read_idx, "hdf5": _read_hdf5, "npz": _read_npz, "imagefolder": _read_folders}[format]
        contents = {name: (*read([Path(p) for p in paths], name), {}) for name, paths in splits.items()}
    schema = source.hub_features() if source is not None else datasets.Features({
        "image": datasets.Image(), "label": datasets.ClassLabel(names=_class_names(format, contents))})
    image_column, label_column = list(schema)
    # The hub stores a domain as a string column beside the image and the label.
    schema = datasets.Features({image_column: schema[image_column],
                                **{column: datasets.Value("string") for column in domains or {}},
                                label_column: schema[label_column]})
    out.parent.mkdir(parents=True, exist_ok=True)
    # Rows stream through a scratch cache, so a large split never sits in memory whole.
    with tempfile.TemporaryDirectory(prefix=".tlarena-import-", dir=out.parent) as scratch:
        built = {}
        for name, (images, labels, described, extra) in contents.items():
            labels = _label_ids(labels, schema[label_column], name)
            # No lists in gen_kwargs: datasets would take each list item for a shard of its own.
            built[name] = datasets.Dataset.from_generator(
                _rows, features=schema, cache_dir=scratch,
                gen_kwargs={"images": images if isinstance(images, np.ndarray) else tuple(images),
                            "labels": np.asarray(labels), "columns": (image_column, label_column),
                            "extra": {column: tuple(values) for column, values in extra.items()}})
            built[name].info.description = f"imported by tlarena from {format}: {described}"
        _save_atomically(datasets.DatasetDict(built), out)
    return out


def domain_values(hub_id: str, sources: Iterable[DataSource]) -> dict[str, tuple[str, ...]]:
    """Column → the values that ``sources`` reading ``hub_id`` select rows by (``filter``), in the
    order they first appear: ``{"domain": ("Art", "Clipart", ...)}`` for Office-Home."""
    values: dict[str, dict[str, None]] = {}
    for source in _hub_datasets(sources):
        if source.path == hub_id:
            for column, value in (source.filter or {}).items():
                values.setdefault(column, {})[str(value)] = None
    return {column: tuple(found) for column, found in values.items()}


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


# what each format reads from a PATH
READS = {"idx": "IDX files, an images file and its labels file", "hdf5": "an HDF5 file",
         "npz": "an npz archive", "imagefolder": "folders <class>/*.png|jpg"}


def _check_paths(format: str, splits: Mapping[str, Sequence[str | os.PathLike]]) -> None:
    """Every PATH is there and is a file or a folder as the format reads, before anything is read."""
    folders = format == "imagefolder"
    for name, paths in splits.items():
        for given in paths:
            path = Path(str(given).partition("::")[0] if format == "hdf5" else given)
            if not path.exists():
                raise FileNotFoundError(f"--split {name}: no {'folder' if folders else 'file'} {path}")
            if path.is_dir() != folders:
                raise ValueError(f"--split {name}: {path} is a {'folder' if path.is_dir() else 'file'}; "
                                 f"{format} reads {READS[format]}")


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
    try:
        with opener(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError) as error:   # a truncated or corrupt gzip
        raise ValueError(f"{path}: not a readable IDX file ({error})") from None


def _read_hdf5(paths: list[Path], split: str):
    import h5py  # an optional dependency: only this format needs it

    images, labels = [], []
    for given in paths:
        path, _, group = str(given).partition("::")
        try:
            handle = h5py.File(path, "r")
        except OSError as error:
            raise ValueError(f"{path}: not an HDF5 file ({error})") from None
        with handle:
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
        try:
            archive = np.load(path)   # never with pickles: a file that needs them is refused
        except OSError as error:
            raise ValueError(f"{path}: not a readable npz archive ({error})") from None
        except ValueError:            # numpy took it for a pickle: what it says would mislead here
            raise ValueError(f"{path}: not an npz archive") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"{path}: a single .npy array, not an npz archive with 'images' and 'labels'")
        with archive:
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


def _read_domain_folders(paths: list[Path], split: str, hub_id: str, domains: Mapping[str, Sequence[str]],
                         log: Callable[[str], None]):
    """``<path>/<domain>/<class>/*``: files, class names, and each file's domain in every column."""
    (column, values), *others = domains.items()
    if others:
        raise ValueError(f"{hub_id} selects rows by several columns ({', '.join(domains)}); image "
                         f"folders can fill one")
    files, labels, found = [], [], []
    for root in paths:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) \
            if root.is_dir() else []
        if not folders:
            raise ValueError(f"split {split!r}: {root} holds no domain folders; {hub_id} is read from "
                             f"<root>/<{column}>/<class>/*.jpg with {column} in {_listed(values)}")
        for folder in folders:
            value = _domain_value(folder.name, values)
            if value is None:
                raise ValueError(f"split {split!r}: folder {folder.name!r} under {root} is not a {column} "
                                 f"of {hub_id}; its suite reads {column} {_listed(values)}. Name each "
                                 f"folder under {root} after one (layout <root>/<{column}>/<class>/*.jpg)")
            if value != folder.name:
                log(f"{column} folder {folder.name!r} is read as {value!r}")
            images, classes, _ = _read_folders([folder], split)
            loose = [f for f in images if f.parent == folder]
            if loose:
                raise ValueError(f"split {split!r}: {len(loose)} images lie directly in {folder}, "
                                 f"outside a class folder (e.g. {loose[0].name})")
            files += images
            labels += classes
            found += [value] * len(images)
    left_out = [value for value in values if value not in found]
    if left_out:
        log(f"split {split!r} has no {column} {_listed(left_out)}: their pairs will find no rows")
    return files, labels, _described(paths), {column: found}


def _domain_value(folder: str, values: Sequence[str]) -> str | None:
    """The value a domain folder names: itself, or the one spelled alike but for case, spaces,
    ``_`` and ``-`` (``Real_World`` → ``Real World``)."""
    def loose(text: str) -> str:
        return re.sub(r"[\s_-]+", " ", text).strip().casefold()

    if folder in values:
        return folder
    return next((value for value in values if loose(value) == loose(folder)), None)


def _listed(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


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
        return sorted({name for _, labels, _, _ in contents.values() for name in labels})
    top = max(int(np.max(labels)) for _, labels, _, _ in contents.values())
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


def _rows(images, labels, columns, extra):
    image_column, label_column = columns
    for row, (image, label) in enumerate(zip(images, labels)):
        yield {image_column: _encoded(image), label_column: int(label),
               **{column: values[row] for column, values in extra.items()}}


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
