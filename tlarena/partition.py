"""How a run's data is cut into parts: what a method trains on, what selects it, what scores it.

The rule the whole protocol rests on: **labeled target data never comes from the images a run is
scored on**, and no part used for model selection is the target test split.

Every data side's training split is cut once, with a fixed seed, so every method, seed and
hyperparameter draw sees the same parts (DomainBed, Gulrajani & Lopez-Paz, ICLR 2021, holds out
20 % of each domain the same way):

- **source**: ``fit`` (what the source model and source-using methods train on) and ``val``
  (a class-stratified 20 % held out: the source-validation selection rule scores on it).
- **target test**: the dataset's own test split when it has one (``test-split``). A domain stored
  as one split (Office-Home, PACS, ...) gets a class-stratified 20 % held out as its test part
  (``held-out``); only in ``uda`` may the literature's transductive protocol score on the very
  images the method adapts to, unlabeled (``transductive``).
- **target labels** (few-shot, supervised, task): drawn from the target's training part only;
  20 % of them per class (at least one where a class has two or more) are held out as the labeled
  target validation part, and the method trains on the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable

import numpy as np

from tlarena.data import SplitTensors
from tlarena.pairs import BuiltDataset, DataSource, DomainPair, HubDataset, MultiSource
from tlarena.settings import Setting

HOLDOUT_FRACTION = 0.2
HOLDOUT_SEED = 0        # fixed: the parts are a property of the data, not of a run


class Evaluation(str, Enum):
    """Which target images a run is scored on; recorded in every spec."""

    TEST_SPLIT = "test-split"        # the dataset's own test split
    HELD_OUT = "held-out"            # a stratified 20 % of a single-split domain, never trained on
    TRANSDUCTIVE = "transductive"    # uda only: the unlabeled target images themselves


def single_split(source: DataSource) -> bool:
    """Whether the side's test split is its training split (one split per domain)."""
    if isinstance(source, MultiSource):
        return all(single_split(part) for part in source.parts)
    if isinstance(source, HubDataset):
        return source.splits.get("train", "train") == source.splits.get("test", "test")
    assert isinstance(source, BuiltDataset)
    return False


def evaluation_for(target: DataSource, setting_has_labels: bool, transductive_uda: bool) -> Evaluation:
    """The scoring protocol of a target: its test split, else a held-out part or, in uda, all of it."""
    if not single_split(target):
        return Evaluation.TEST_SPLIT
    if transductive_uda and not setting_has_labels:
        return Evaluation.TRANSDUCTIVE
    return Evaluation.HELD_OUT


def stratified_holdout(labels: np.ndarray, fraction: float = HOLDOUT_FRACTION,
                       seed: int = HOLDOUT_SEED) -> np.ndarray:
    """A boolean mask of the held-out rows: ``fraction`` of each class, rounded, at least one of
    every class with two or more rows (so every class is validated), never a class's last row."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        count = min(max(round(fraction * len(rows)), 1), len(rows) - 1)
        held[rows[:count]] = True
    return held


@dataclass(frozen=True)
class Cut:
    """Row indices of one split's parts."""

    kept: np.ndarray
    held: np.ndarray

    @classmethod
    def of(cls, labels: np.ndarray, fraction: float = HOLDOUT_FRACTION,
           seed: int = HOLDOUT_SEED) -> "Cut":
        mask = stratified_holdout(labels, fraction, seed)
        return cls(np.flatnonzero(~mask), np.flatnonzero(mask))


def few_shot_indices(labels: np.ndarray, shots: int, seed: int) -> np.ndarray:
    """``shots`` examples of each class, drawn with ``seed`` (fewer where a class has fewer)."""
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:shots] for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


@dataclass
class Parts:
    """The decoded parts of a pair one run uses (None: the setting has no such part)."""

    source_fit: SplitTensors
    source_val: SplitTensors
    source_test: SplitTensors
    target_pool: SplitTensors               # target training images: the unlabeled stream
    target_labeled: SplitTensors | None     # the target labels the method trains on
    target_val: SplitTensors | None         # held-out target labels: the target-val rule
    target_test: SplitTensors               # what the run is scored on

    def named(self) -> dict[tuple[str, str], SplitTensors]:
        """(side, part) → tensors, for the record's provenance."""
        parts = {("source", "fit"): self.source_fit, ("source", "val"): self.source_val,
                 ("source", "test"): self.source_test, ("target", "unlabeled"): self.target_pool,
                 ("target", "labeled"): self.target_labeled, ("target", "val"): self.target_val,
                 ("target", "test"): self.target_test}
        return {name: part for name, part in parts.items() if part is not None}


Load = Callable[[DataSource, str], SplitTensors]


def cut(pair: DomainPair, setting: Setting, evaluation: Evaluation, shots: int | None, seed: int,
        load: Load) -> Parts:
    """The parts of ``pair`` for one run; ``load(source, split)`` decodes a split (cached)."""
    target_train = load(pair.target, "train")
    if evaluation is Evaluation.TEST_SPLIT:
        pool, test = target_train, load(pair.target, "test")
    elif evaluation is Evaluation.HELD_OUT:
        target = Cut.of(target_train.labels)
        pool, test = target_train.subset(target.kept), target_train.subset(target.held)
    else:
        pool = test = target_train

    source_train = load(pair.source, "train")
    source = Cut.of(source_train.labels)
    source_fit, source_val = source_train.subset(source.kept), source_train.subset(source.held)
    source_test = source_val if single_split(pair.source) else load(pair.source, "test")

    labeled = val = None
    if setting is Setting.FEW_SHOT:
        labeled = pool.subset(few_shot_indices(pool.labels, shots, seed))
    elif setting.target_labels == "all":
        labeled = pool
    if labeled is not None:
        labels = Cut.of(labeled.labels)
        labeled, val = labeled.subset(labels.kept), (labeled.subset(labels.held) if len(labels.held) else None)
    for name, part in (("source training", source_fit), ("target test", test), ("target training", pool)):
        if not len(part):
            raise ValueError(f"pair {pair.name}: the {name} part is empty")
    return Parts(source_fit, source_val, source_test, pool, labeled, val, test)
