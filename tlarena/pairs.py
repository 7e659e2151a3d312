"""Domain pairs and the data sources they name: a hub dataset, or a local builder."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import datasets

Splits = Mapping[str, str]


@dataclass(frozen=True)
class HubDataset:
    """A Hugging Face dataset: hub id, config, pinned revision, splits and columns.

    ``splits`` maps tlarena's split names (``train``, ``test``) to the dataset's; a value may be a
    datasets split expression (``"train[:2000]"``). ``label_map`` maps the dataset's label ids to
    ours; labels it leaves out are dropped. ``filter`` keeps the rows whose column equals a value
    (``{"domain": "Art"}``), for datasets that hold several domains in one split. ``local_only``
    marks a dataset with no hub copy: only its folder under the data dir is looked for.
    ``folder`` is an image folder of your own that holds the data instead (``tlarena.data.folders``;
    ``revision`` is then its fingerprint); the folder's place is not part of the reference, so a
    moved folder keeps its records.
    ``hub_classes`` are the dataset's own class names in its label order, where they are not
    ``classes`` (a ``label_map`` translates); with the column names they make the hub schema.
    """

    name: str
    path: str
    classes: tuple[str, ...]
    revision: str | None = None
    config: str | None = None
    splits: Splits = field(default_factory=lambda: {"train": "train", "test": "test"})
    image_column: str = "image"
    label_column: str = "label"
    label_map: Mapping[int, int] | None = None
    filter: Mapping[str, object] | None = None
    local_only: bool = False
    hub_classes: tuple[str, ...] | None = None
    folder: str | None = None

    @property
    def ref(self) -> str:
        parts = [self.path, self.config or "", self.revision or "main"]
        return ":".join(parts)

    def hub_features(self) -> datasets.Features:
        """The image and label columns as the hub dataset declares them: what a local copy holds."""
        return datasets.Features({
            self.image_column: datasets.Image(),
            self.label_column: datasets.ClassLabel(names=list(self.hub_classes or self.classes)),
        })

    def reference(self) -> dict:
        """Where the rows come from, for the record: enough to find the same data a year later."""
        reference = {"name": self.name, "hub_id": self.path, "config": self.config,
                     "revision": self.revision, "splits": dict(self.splits)}
        if self.filter:
            reference["filter"] = dict(self.filter)
        if self.label_map:
            reference["label_map"] = {str(k): v for k, v in self.label_map.items()}
        return reference


@dataclass(frozen=True)
class BuiltDataset:
    """A dataset made by code from what installed packages ship.

    ``build()`` returns a ``datasets.DatasetDict`` with ``train`` and ``test`` splits, an ``image``
    column (``datasets.Image``) and a ``label`` column (``datasets.ClassLabel`` with ``classes``).
    Bump ``version`` whenever the builder's output changes: it keys the cache.
    """

    name: str
    build: Callable[[], datasets.DatasetDict]
    classes: tuple[str, ...]
    version: str = "1"

    @property
    def ref(self) -> str:
        return f"built:{self.name}:{self.version}"

    def reference(self) -> dict:
        return {"name": self.name, "built": self.version}


@dataclass(frozen=True)
class MultiSource:
    """Several sources pooled into one: multi-source transfer, e.g. leave one domain out.

    Every part must have the same classes; a split is the concatenation of the parts' splits.
    """

    name: str
    parts: tuple["HubDataset | BuiltDataset", ...]

    def __post_init__(self):
        if len({tuple(part.classes) for part in self.parts}) != 1:
            raise ValueError(f"multi-source {self.name!r}: its parts must share one label space")

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.parts[0].classes)

    @property
    def ref(self) -> str:
        return "multi:" + "+".join(part.ref for part in self.parts)

    def reference(self) -> dict:
        return {"name": self.name, "parts": [part.reference() for part in self.parts]}


DataSource = HubDataset | BuiltDataset | MultiSource


@dataclass(frozen=True)
class DomainPair:
    """A source and a target. Label spaces equal → domain adaptation; different → task transfer."""

    source: DataSource
    target: DataSource
    suite: str
    description: str = ""
    name: str = ""
    augment: str = "none"       # train-time augmentation: a registered Augmentation's name

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", f"{self.source.name}->{self.target.name}")

    @property
    def shared_label_space(self) -> bool:
        return tuple(self.source.classes) == tuple(self.target.classes)
