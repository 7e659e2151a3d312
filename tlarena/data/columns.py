"""One standard form for every split, whichever dataset and layout it came from.

A split leaves ``standardize`` with two columns: ``image`` (``datasets.Image``) and ``label``
(``datasets.ClassLabel`` over the source's ``classes``, so its values are our ids). On the way, rows
are selected by column value (``filter``), the image and label columns renamed, and labels mapped to
our ids (``label_map``); unmapped labels and unlabeled rows (-1) are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import datasets
import numpy as np
import pyarrow.compute as pc

from tlarena.data.paths import DataUnavailable
from tlarena.pairs import HubDataset


@dataclass(frozen=True)
class Columns:
    """How to read a loaded split: which columns hold the image and label, and what to apply."""

    image: str
    label: str
    label_map: Mapping[int, int] | None
    filter: Mapping[str, object] | None

    @classmethod
    def of(cls, source: HubDataset) -> "Columns":
        return cls(source.image_column, source.label_column, source.label_map, source.filter)

    @classmethod
    def image_folder(cls, source: HubDataset, folder: Path) -> "Columns":
        # Folder names are our class names, so the labels are already our ids.
        if source.filter:
            raise DataUnavailable(
                f"the image folders at {folder} cannot serve {source.name!r}: it selects rows by "
                f"{dict(source.filter)}, and image folders have no such column. Provide a "
                "save_to_disk DatasetDict or parquet files with the hub's columns instead."
            )
        return cls("image", "label", None, None)


def standardize(dataset: datasets.Dataset, source: HubDataset, columns: Columns,
                where: str) -> datasets.Dataset:
    """``dataset`` (read from ``where``) with our two columns and only the rows ``source`` keeps."""
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
                columns: Columns) -> tuple[np.ndarray, np.ndarray]:
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
