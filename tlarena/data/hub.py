"""Resolve a data source (hub dataset, builder, or several pooled) to a ``datasets.Dataset`` split.

Every split leaves here in the standard form of ``columns``: ``image`` and ``label`` (our ids).

Where a hub dataset is read from
--------------------------------
0. A source with a ``folder`` (an image folder of your own) is read from it alone
   (``tlarena.data.folders``).
1. A local copy, when ``load_split`` is given a data dir that holds one (nothing is looked for
   without one; the command line passes ``--data-dir``, else ``$TLARENA_DATA_DIR``). A hub id
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

A source that cannot be loaded raises one ``DataUnavailable`` naming the dataset, what was tried and
how to provide it.
"""
from __future__ import annotations

import os
import shutil
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import datasets
import numpy as np

from tlarena import claims, phases
from tlarena.data.columns import Columns, standardize
from tlarena.data.paths import DATA_DIR_ENV, BuildFailed, DataUnavailable, cache_root, dataset_dir
from tlarena.pairs import BuiltDataset, DataSource, HubDataset, MultiSource

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
LAYOUTS = (
    "a save_to_disk DatasetDict (dataset_dict.json), parquet files (<split>-*.parquet or "
    "data/<split>-*.parquet, as hub repos store them) or image folders (<split>/<class>/*.png|jpg)"
)

_hub_probe: bool | None = None


def load_split(source: DataSource, split: str, *, data_dir: str | os.PathLike | None = None,
               download: bool = True) -> datasets.Dataset:
    """One split of a source, with ``image`` and ``label`` columns.

    ``data_dir``: where local copies of hub datasets are looked for (``None``: nowhere, the hub
    only). ``download=False`` reads only what is already here: a local copy or the Hugging Face cache.
    """
    if isinstance(source, BuiltDataset):
        return _built(source)[split]
    if isinstance(source, MultiSource):
        return datasets.concatenate_datasets([load_split(part, split, data_dir=data_dir, download=download)
                                              for part in source.parts])
    if split not in source.splits:
        raise KeyError(f"source {source.name!r} has no split {split!r} (it has {sorted(source.splits)})")
    if source.folder is not None:
        from tlarena.data import folders   # it reads IMAGE_SUFFIXES from here
        return folders.load(source, split)
    root = Path(data_dir).expanduser() if data_dir is not None else None
    local = dataset_dir(root, source.path, source.config) if root is not None else None
    if local is not None and local.is_dir():
        return _load_local(source, split, local)
    return _load_hub(source, split, root, local, download)


def is_built(source: BuiltDataset) -> bool:
    """Whether the source is built in the cache already (loading it would otherwise build it)."""
    return (_built_path(source) / "dataset_dict.json").exists()


def _built_path(source: BuiltDataset) -> Path:
    return cache_root() / "datasets" / f"{source.name}-v{source.version}"


def _built(source: BuiltDataset) -> datasets.DatasetDict:
    """Build once, keep on disk: later loads are memory-mapped with a stable fingerprint."""
    path = _built_path(source)

    def cached() -> bool:
        return is_built(source)

    # Processes that need it at once build it once: the first claims it, the others wait.
    claim = None if cached() else claims.wait(claims.claim_path(path), cached)
    if claim is not None:
        try:
            if not cached():
                phases.enter(phases.BUILDING, source.name)
                _build(source, path)
        finally:
            claim.release()
    return datasets.load_from_disk(str(path))


def _build(source: BuiltDataset, path: Path) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    datasets.disable_progress_bars()  # tlarena's own progress bar is the one to watch
    try:
        built = source.build()
    except Exception as error:   # a plugin's code: its pair's runs fail with this reason, the grid goes on
        raise BuildFailed(source.name, f"its builder raised {type(error).__name__}: {error}") from error
    _check_built(source, built)
    built.save_to_disk(str(tmp))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(tmp, path)
    except OSError:  # a copy is there already (a claim taken over from a slow builder): as good as ours
        shutil.rmtree(tmp, ignore_errors=True)


def _check_built(source: BuiltDataset, built) -> None:
    """Refuse a build that is not what ``BuiltDataset`` promises, before it is cached: a label
    outside the classes would score as a wrong prediction (a UDA target's only labels are its test
    labels), and an empty split would fail far from its cause."""
    def refuse(problem: str):
        raise BuildFailed(source.name, problem)

    if not isinstance(built, datasets.DatasetDict):
        refuse(f"its builder returned {type(built).__name__}, not a datasets.DatasetDict")
    if absent := [split for split in ("train", "test") if split not in built]:
        refuse(f"it has splits {sorted(built)}, and no {' or '.join(absent)}")
    classes = len(source.classes)
    for name in ("train", "test"):
        split = built[name]
        if absent := [column for column in ("image", "label") if column not in split.column_names]:
            refuse(f"its {name} split has columns {split.column_names}, and no {' or '.join(absent)}")
        if not len(split):
            refuse(f"its {name} split is empty")
        labels = np.asarray(split.select_columns(["label"]).with_format("arrow")[:]["label"]
                            .to_numpy(zero_copy_only=False))
        if not np.issubdtype(labels.dtype, np.integer):
            refuse(f"its {name} split's labels are {labels.dtype}, not integer class ids")
        if (wrong := np.unique(labels[(labels < 0) | (labels >= classes)])).size:
            refuse(f"its {name} split has labels {wrong[:10].tolist()}, which are not ids of its "
                   f"{classes} classes (0 to {classes - 1})")


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
    return standardize(dataset, source, Columns.of(source), where)


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
        place = f"{dataset_dir('<data_dir>', source.path, source.config)}/"
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
            columns = Columns.of(source)
        elif parquet := _parquet_files(source, folder):
            _require_splits(source, split, folder, wanted, parquet)
            splits = datasets.load_dataset("parquet", data_files={s: parquet[s] for s in wanted},
                                           cache_dir=cache_dir)
            columns = Columns.of(source)
        elif images := _image_files(folder):
            _require_splits(source, split, folder, wanted, images)
            columns = Columns.image_folder(source, folder)
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
    return standardize(_select(splits, expression), source, columns, f"the local copy at {folder}")


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
