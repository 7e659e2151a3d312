"""Resolve a data source (hub dataset or builder) to a ``datasets.Dataset`` split with our columns.

Every split leaves here with two columns: ``image`` (``datasets.Image``) and ``label``
(``datasets.ClassLabel`` over the source's ``classes``, so its values are our ids).

Where a hub dataset is read from
--------------------------------
1. A local copy, when the data dir holds one. The data dir is what ``set_data_dir(path)`` set (the
   CLI's ``--data-dir`` calls it), else the ``TLARENA_DATA_DIR`` environment variable. A hub id
   ``owner/name`` lives in ``<data_dir>/owner__name/``, and in ``<data_dir>/owner__name/<config>/``
   when the source names a config. That folder holds one of:

   - a ``save_to_disk`` DatasetDict (``dataset_dict.json``; ``tlarena data import`` writes these);
   - parquet files as hub repos store them: ``<split>-*.parquet``, ``<dir>/<split>-*.parquet``
     (``data/``, or a config folder) or ``<split>/*.parquet``;
   - an image folder ``<split>/<class>/*.png|jpg`` (any folders between the split and the class
     folder are allowed). Class folders are named with the source's class names; there are no
     other columns, so sources that select rows by a column (``filter``) need one of the forms above.

   When the folder exists it is used as it is (its revision is not checked) and the network is
   never touched.
2. Otherwise the Hugging Face Hub at the pinned revision. When the hub cannot be reached (or
   ``HF_HUB_OFFLINE`` is set) only the local Hugging Face cache is consulted, so an offline machine
   fails in about a second instead of retrying for minutes.

Whichever form is found, the split goes through the same standardization: rows are selected by
column value (``filter``), the image and label columns are renamed, labels are mapped to our ids
(``label_map``; unmapped labels and unlabeled rows (-1) are dropped) and the image column is cast to
``datasets.Image``. A source that cannot be loaded raises one ``DataUnavailable`` naming the dataset,
what was tried and how to provide it.
"""
from __future__ import annotations

import os
import shutil
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import urlparse

import datasets
import numpy as np
import pyarrow.compute as pc

from tlarena.pairs import BuiltDataset, DataSource, HubDataset, MultiSource

DATA_DIR_ENV = "TLARENA_DATA_DIR"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
LAYOUTS = (
    "a save_to_disk DatasetDict (dataset_dict.json), parquet files (<split>-*.parquet or "
    "data/<split>-*.parquet, as hub repos store them) or image folders (<split>/<class>/*.png|jpg)"
)

_data_dir: Path | None = None
_hub_probe: bool | None = None


class DataUnavailable(RuntimeError):
    """A dataset could not be loaded; the message names it, what was tried and how to provide it."""


def cache_root() -> Path:
    return Path(os.environ.get("TLARENA_CACHE", Path.home() / ".cache" / "tlarena"))


def set_data_dir(path: str | os.PathLike | None) -> None:
    """Read local copies of hub datasets from ``path`` (``None``: back to ``TLARENA_DATA_DIR``)."""
    global _data_dir
    _data_dir = Path(path).expanduser() if path is not None else None


def get_data_dir() -> Path | None:
    """The data dir in effect: the one ``set_data_dir`` set, else ``TLARENA_DATA_DIR``, else none."""
    if _data_dir is not None:
        return _data_dir
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def dataset_dir(root: str | os.PathLike, hub_id: str, config: str | None = None) -> Path:
    """Where the local copy of ``hub_id`` (and ``config``) lives under the data dir ``root``."""
    return Path(root) / _dir_name(hub_id, config)


def _dir_name(hub_id: str, config: str | None) -> str:
    owner, sep, name = hub_id.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise ValueError(f"hub id {hub_id!r} is not of the form owner/name")
    return f"{owner}__{name}" + (f"/{config}" if config else "")


def load_split(source: DataSource, split: str, *, data_dir: str | os.PathLike | None = None,
               download: bool = True) -> datasets.Dataset:
    """One split of a source, with ``image`` and ``label`` columns.

    ``data_dir`` overrides the data dir in effect (``set_data_dir`` / ``TLARENA_DATA_DIR``).
    ``download=False`` reads only what is already here: a local copy or the Hugging Face cache.
    """
    if isinstance(source, BuiltDataset):
        return _built(source)[split]
    if isinstance(source, MultiSource):
        return datasets.concatenate_datasets([load_split(part, split, data_dir=data_dir, download=download)
                                              for part in source.parts])
    if split not in source.splits:
        raise KeyError(f"source {source.name!r} has no split {split!r} (it has {sorted(source.splits)})")
    root = Path(data_dir) if data_dir is not None else get_data_dir()
    local = dataset_dir(root, source.path, source.config) if root is not None else None
    if local is not None and local.is_dir():
        return _load_local(source, split, local)
    return _load_hub(source, split, root, local, download)


def _built(source: BuiltDataset) -> datasets.DatasetDict:
    """Build once, keep on disk: later loads are memory-mapped with a stable fingerprint."""
    path = cache_root() / "datasets" / f"{source.name}-v{source.version}"
    if not (path / "dataset_dict.json").exists():
        tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
        datasets.disable_progress_bars()  # tlarena's own progress bar is the one to watch
        source.build().save_to_disk(str(tmp))
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, path)
        except OSError:  # another process finished first; its copy is as good as ours
            shutil.rmtree(tmp, ignore_errors=True)
    return datasets.load_from_disk(str(path))


# --- the hub ---------------------------------------------------------------------------------

def _load_hub(source: HubDataset, split: str, root: Path | None, local: Path | None, download: bool):
    expression = source.splits[split]
    if source.local_only:
        raise DataUnavailable(_unavailable(source, split, root, local, ""))
    online = download and _hub_online()
    try:
        with _offline(not online):
            dataset = datasets.load_dataset(source.path, source.config, revision=source.revision,
                                            split=expression)
    except Exception as error:
        if online:
            why = f"loading it failed: {type(error).__name__}: {_first_line(error)}"
        else:
            why = ("the hub is unreachable from here (or HF_HUB_OFFLINE is set) and the local "
                   "Hugging Face cache has no copy")
        raise DataUnavailable(_unavailable(source, split, root, local, why)) from None
    where = f"{source.path} on the Hugging Face Hub"
    return _standardize(dataset, source, _Columns.of(source), where)


def _hub_online(timeout: float = 2.0) -> bool:
    """Whether the hub answers, probed once per process: offline machines must fail fast."""
    global _hub_probe
    if any(_env_true(name) for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")):
        return False
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # behind a proxy a direct connection says nothing: let the hub client try
    if _hub_probe is None:
        from huggingface_hub import constants
        endpoint = urlparse(constants.ENDPOINT)
        port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
        try:
            socket.create_connection((endpoint.hostname, port), timeout=timeout).close()
            _hub_probe = True
        except OSError:
            _hub_probe = False
    return _hub_probe


@contextmanager
def _offline(enabled: bool = True) -> Iterator[None]:
    """Hub offline mode for the duration: only local files and the Hugging Face cache are read."""
    from huggingface_hub import constants
    saved = datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE
    if enabled:
        datasets.config.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE = saved


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def _unavailable(source: HubDataset, split: str, root: Path | None, local: Path | None,
                 hub: str) -> str:
    config = f" config {source.config!r}" if source.config else ""
    revision = source.revision or "main (not pinned)"
    if local is None:
        tried_local = f"no data dir is set (--data-dir or {DATA_DIR_ENV}), so no local copy was looked for"
        place = f"<data_dir>/{_dir_name(source.path, source.config)}/"
        data_dir_arg = "<data_dir>"
    else:
        tried_local = f"{local} (does not exist)"
        place, data_dir_arg = f"{local}/", str(root)
    options = [
        f"place a copy at {place} as {LAYOUTS}, and pass --data-dir {data_dir_arg} (or set {DATA_DIR_ENV})",
        f"convert files you have: tlarena data import FORMAT --hub-id {source.path} --split NAME=PATH "
        f"--data-dir {data_dir_arg} (FORMAT: idx, hdf5, npz or imagefolder)",
    ]
    if source.local_only:
        hub_line = "Hugging Face Hub: not tried, the dataset has no hub copy"
    else:
        hub_line = f"Hugging Face Hub {source.path}{config} at revision {revision}: {hub}"
        options.insert(0, "run with internet access once: it downloads on first use, and the Hugging "
                          "Face cache serves it offline afterwards")
    return "\n".join([
        f"dataset {source.path!r}{config} (tlarena source {source.name!r}, split {split!r} = "
        f"{source.splits[split]!r}) is unavailable.",
        "Tried:",
        f"  - local copy: {tried_local}",
        f"  - {hub_line}",
        "To provide it:",
        *(f"  - {'or ' if i else ''}{option}{';' if i < len(options) - 1 else '.'}"
          for i, option in enumerate(options)),
    ])


# --- local copies ------------------------------------------------------------------------------

def _load_local(source: HubDataset, split: str, folder: Path) -> datasets.Dataset:
    expression = source.splits[split]
    wanted = _split_names(expression)
    cache_dir = str(cache_root() / "local-datasets")
    with _offline():
        if (folder / "dataset_dict.json").is_file():
            splits = datasets.load_from_disk(str(folder))
            _require_splits(source, split, folder, wanted, splits)
            columns = _Columns.of(source)
        elif parquet := _parquet_files(source, folder):
            _require_splits(source, split, folder, wanted, parquet)
            splits = datasets.load_dataset("parquet", data_files={s: parquet[s] for s in wanted},
                                           cache_dir=cache_dir)
            columns = _Columns.of(source)
        elif images := _image_files(folder):
            _require_splits(source, split, folder, wanted, images)
            columns = _Columns.image_folder(source, folder)
            features = datasets.Features({"image": datasets.Image(),
                                          "label": datasets.ClassLabel(names=list(source.classes))})
            try:
                splits = datasets.load_dataset("imagefolder", data_files={s: images[s] for s in wanted},
                                               features=features, drop_labels=False, cache_dir=cache_dir)
            except ValueError as error:  # a class folder that is not one of the source's classes
                raise DataUnavailable(
                    f"the image folders at {folder} (for {source.name!r}) do not match its classes: "
                    f"{_first_line(error)}. Class folders must be named {list(source.classes)}."
                ) from None
        else:
            raise DataUnavailable(
                f"{folder} (the local copy of {source.path!r} for {source.name!r}) holds none of the "
                f"known layouts: {LAYOUTS}."
            )
    return _standardize(_select(splits, expression), source, columns, f"the local copy at {folder}")


def _split_names(expression: str) -> list[str]:
    """The split names a datasets split expression reads (``"train[:10%]+test"`` → train, test)."""
    return list(dict.fromkeys(part.split("[")[0].strip() for part in expression.split("+")))


def _require_splits(source: HubDataset, split: str, folder: Path, wanted, found) -> None:
    found = sorted(found)
    missing = [name for name in wanted if name not in found]
    if missing:
        raise DataUnavailable(
            f"the local copy of {source.path!r} at {folder} has splits {found}, but source "
            f"{source.name!r} reads {source.splits[split]!r} for its {split!r} split "
            f"(missing: {missing}). Add the split there; the hub is not consulted when a local copy exists."
        )


def _parquet_files(source: HubDataset, folder: Path) -> dict[str, list[str]]:
    """Parquet files by split: ``<split>[-*].parquet`` at the top or one folder down, or ``<split>/*``."""
    found: dict[str, list[str]] = {}
    folders: dict[str, set[Path]] = {}
    for path in sorted(folder.glob("*.parquet")) + sorted(folder.glob("*/*.parquet")):
        if "-" in path.name or path.parent == folder:
            name = path.name.split("-")[0].removesuffix(".parquet")
        else:
            name = path.parent.name
        found.setdefault(name, []).append(str(path))
        folders.setdefault(name, set()).add(path.parent)
    for name, parents in folders.items():
        if len(parents) > 1:  # e.g. one folder per config: reading them all would mix configs
            raise DataUnavailable(
                f"the local copy of {source.path!r} at {folder} has {name!r} parquet files in "
                f"{sorted(str(p.relative_to(folder)) or '.' for p in parents)}; keep one, or move each "
                "config's files to <config>/ and name the config in the source."
            )
    return found


def _image_files(folder: Path) -> dict[str, list[str]]:
    """Image files by split, the split being the first folder under ``folder`` (links followed)."""
    found: dict[str, list[str]] = {}
    for split in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for parent, folders, files in os.walk(split, followlinks=True):
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            if Path(parent) != split:  # files directly in the split folder have no class
                found.setdefault(split.name, []).extend(
                    os.path.join(parent, f) for f in sorted(files)
                    if Path(f).suffix.lower() in IMAGE_SUFFIXES and not f.startswith("."))
    return {name: files for name, files in found.items() if files}


def _select(splits: datasets.DatasetDict, expression: str) -> datasets.Dataset:
    """Apply a datasets split expression to a loaded DatasetDict, as ``load_dataset(split=)`` does."""
    sizes = {name: len(dataset) for name, dataset in splits.items()}
    parts = [splits[step.splitname].select(range(step.from_, step.to))
             for step in datasets.ReadInstruction.from_spec(expression).to_absolute(sizes)]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


# --- standardization ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Columns:
    """How to read a loaded split: which columns hold the image and label, and what to apply."""

    image: str
    label: str
    label_map: Mapping[int, int] | None
    filter: Mapping[str, object] | None

    @classmethod
    def of(cls, source: HubDataset) -> "_Columns":
        return cls(source.image_column, source.label_column, source.label_map, source.filter)

    @classmethod
    def image_folder(cls, source: HubDataset, folder: Path) -> "_Columns":
        # Folder names are our class names, so the labels are already our ids.
        if source.filter:
            raise DataUnavailable(
                f"the image folders at {folder} cannot serve {source.name!r}: it selects rows by "
                f"{dict(source.filter)}, and image folders have no such column. Provide a "
                "save_to_disk DatasetDict or parquet files with the hub's columns instead."
            )
        return cls("image", "label", None, None)


def _standardize(dataset: datasets.Dataset, source: HubDataset, columns: _Columns,
                 where: str) -> datasets.Dataset:
    needed = [columns.image, columns.label, *(columns.filter or {})]
    missing = [name for name in needed if name not in dataset.column_names]
    if missing:
        raise DataUnavailable(
            f"{where} has columns {dataset.column_names}, but source {source.name!r} reads "
            f"{needed} (missing: {missing}); a local copy must keep the hub dataset's column names."
        )
    keep = np.ones(len(dataset), dtype=bool)
    if columns.filter:
        table = dataset.select_columns(list(columns.filter)).with_format("arrow")[:]
        for name, value in columns.filter.items():
            keep &= pc.fill_null(pc.equal(table[name], value), False).to_numpy(zero_copy_only=False)
        if len(dataset) and not keep.any():
            # A domain spelled differently upstream would otherwise give an empty domain, silently.
            found = {name: pc.unique(table[name]).to_pylist()[:20] for name in columns.filter}
            raise DataUnavailable(
                f"{where}: no row of source {source.name!r} has {dict(columns.filter)}; the values "
                f"there are {found}. The source's filter must use one of them."
            )
    labels = dataset.select_columns([columns.label]).with_format("arrow")[:][columns.label]
    ours, labeled = _our_labels(np.asarray(labels.to_numpy(zero_copy_only=False), dtype=np.int64),
                                dataset.features[columns.label], source, columns)
    keep &= labeled
    out_of_range = np.unique(ours[keep & (ours >= len(source.classes))])
    if out_of_range.size:
        raise ValueError(f"source {source.name!r}: labels {out_of_range.tolist()} from {where} are not "
                         f"ids of its {len(source.classes)} classes; give it a label_map")
    # Columns change before rows are dropped: with no index mapping yet, nothing is copied.
    dataset = dataset.select_columns([columns.image, columns.label]).remove_columns(columns.label)
    if columns.image != "image":
        dataset = dataset.rename_column(columns.image, "image")
    if dataset.features["image"] != datasets.Image():
        dataset = dataset.cast_column("image", datasets.Image())
    dataset = dataset.add_column("label", np.where(keep, ours, 0),
                                 feature=datasets.ClassLabel(names=list(source.classes)))
    return dataset if keep.all() else dataset.select(np.flatnonzero(keep))


def _our_labels(labels: np.ndarray, feature, source: HubDataset,
                columns: _Columns) -> tuple[np.ndarray, np.ndarray]:
    """The labels in our ids, and which rows have one (mapped, and not -1 for "unlabeled")."""
    labeled = labels >= 0
    if columns.label_map is not None:
        mapping = {int(k): int(v) for k, v in columns.label_map.items()}
        table = np.full(max([*mapping, int(labels.max(initial=0))]) + 1, -1, dtype=np.int64)
        table[list(mapping)] = list(mapping.values())
        ours = np.where(labeled, table[np.clip(labels, 0, None)], -1)
        return ours, ours >= 0
    names = list(getattr(feature, "names", None) or [])
    if names and names != list(source.classes) and set(names) <= set(source.classes):
        # Same class names in another order (e.g. a copy re-encoded by name): follow the names.
        table = np.array([source.classes.index(name) for name in names], dtype=np.int64)
        return np.where(labeled, table[np.clip(labels, 0, len(names) - 1)], -1), labeled
    return labels, labeled
