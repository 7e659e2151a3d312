"""Resolve a data source (hub dataset or builder) to a ``datasets.Dataset`` split with our columns.

Every split leaves here with two columns: ``image`` (``datasets.Image``) and ``label`` (int, our ids).
"""
from __future__ import annotations

import os
from pathlib import Path

import datasets

from tlarena.pairs import BuiltDataset, DataSource, HubDataset


class DataUnavailable(RuntimeError):
    """A dataset could not be loaded; the message names it, what was tried and how to provide it."""


def cache_root() -> Path:
    return Path(os.environ.get("TLARENA_CACHE", Path.home() / ".cache" / "tlarena"))


def load_split(source: DataSource, split: str) -> datasets.Dataset:
    """One split of a source, with ``image`` and ``label`` columns."""
    if isinstance(source, BuiltDataset):
        return _built(source)[split]
    return _hub_split(source, split)


def _built(source: BuiltDataset) -> datasets.DatasetDict:
    """Build once, keep on disk: later loads are memory-mapped with a stable fingerprint."""
    path = cache_root() / "datasets" / f"{source.name}-v{source.version}"
    if not (path / "dataset_dict.json").exists():
        datasets.disable_progress_bars()  # tlarena's own progress bar is the one to watch
        tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
        source.build().save_to_disk(str(tmp))
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, path)
        except OSError:  # another process finished first; its copy is as good as ours
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return datasets.load_from_disk(str(path))


def _hub_split(source: HubDataset, split: str) -> datasets.Dataset:
    try:
        ds = datasets.load_dataset(source.path, source.config, revision=source.revision,
                                   split=source.splits[split])
    except Exception as error:
        raise DataUnavailable(
            f"dataset {source.path!r} (split {split!r}) could not be loaded from the hub: {error}"
        ) from error
    return _standardize(ds, source)


def _standardize(ds: datasets.Dataset, source: HubDataset) -> datasets.Dataset:
    if source.filter:
        keys = dict(source.filter)
        ds = ds.filter(lambda row: all(row[k] == v for k, v in keys.items()))
    ds = ds.select_columns([source.image_column, source.label_column])
    if source.image_column != "image":
        ds = ds.rename_column(source.image_column, "image")
    if source.label_column != "label":
        ds = ds.rename_column(source.label_column, "label")
    if source.label_map is not None:
        mapping = {int(k): int(v) for k, v in source.label_map.items()}
        ds = ds.filter(lambda row: int(row["label"]) in mapping)
        ds = ds.map(lambda row: {"label": mapping[int(row["label"])]})
    return ds.cast_column("image", datasets.Image())
