"""Conformance kit for plugin authors: ``check_method(MethodClass)`` from your own tests.

It runs the method through the real harness (the runner, the trainer, the source-model cache) on
tiny generated pairs, once in each setting the method declares, and checks what every method owes:
the run ends ``ok``, every trainable parameter is in an optimizer group, ``predict`` gives one row
of target-class logits per image, and two runs of one spec on the CPU give the same numbers.
DomainBed's ``test_models.py`` plays the same part for its algorithms.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import torch
from PIL import Image

import tlarena_plugins.backbones  # noqa: F401  registers the dtn digit backbone in timm
from tlarena.backbones import create_model
from tlarena.grid import grid
from tlarena.methods import TransferMethod
from tlarena.models import build_method, resolve_backbone
from tlarena.pairs import BuiltDataset, DomainPair, MultiSource
from tlarena.plugins import Arena, load_arena, validate_method
from tlarena.registry import Registry
from tlarena.runner import Runner
from tlarena.settings import Setting
from tlarena.spec import Budget
from tlarena.optimizers import UnoptimizedParameters

BUDGET = Budget(steps=4, source_steps=4, batch_size=8, eval_points=1, shots=3)
BACKBONE = "dtn"   # small, with batch norm (test-time methods adapt its statistics)
_CLASSES = ("a", "b", "c")


class ConformanceError(AssertionError):
    """A method broke the contract; the message names the setting and what went wrong."""


@dataclass(frozen=True)
class Checked:
    """One setting a method passed in: its final top-1 on the tiny pair (chance level is fine)."""

    setting: str
    top1: float


def check_method(method_cls: type[TransferMethod], arena: Arena | None = None) -> list[Checked]:
    """Run ``method_cls`` in each of its settings on tiny pairs; raise ``ConformanceError`` on a breach.

    ``arena``: where augmentations and backbones come from (default: every installed plugin).
    """
    loaded = arena or load_arena()
    arena = Arena(loaded.manager, Registry("method"), Registry("pair"), loaded.backbones, [],
                  loaded.augmentations)
    try:
        validate_method(method_cls, arena)
    except ValueError as error:
        raise ConformanceError(f"{method_cls.__name__} cannot be registered: {error}") from error
    arena.methods.add(method_cls.name, method_cls, "tlarena.testing")
    for pair in _PAIRS:
        arena.pairs.add(pair.name, pair, "tlarena.testing")
    return [_check_setting(arena, method_cls, setting) for setting in sorted(method_cls.settings)]


def _check_setting(arena: Arena, method_cls: type[TransferMethod], setting: Setting) -> Checked:
    pair = _pair_for(setting)
    (spec,) = grid(arena, [method_cls.name], [pair.name], BACKBONE, "none", [0], BUDGET, [setting])
    records = []
    for attempt in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnoptimizedParameters)
            record = Runner(arena, torch.device("cpu")).execute(spec)
        where = f"{method_cls.name} in {setting.value}"
        if record.status != "ok":
            raise ConformanceError(f"{where}: the run ended {record.status}: {record.reason}\n"
                                   f"{record.traceback or ''}")
        unoptimized = [str(w.message) for w in caught if issubclass(w.category, UnoptimizedParameters)]
        if unoptimized:
            raise ConformanceError(f"{where}: {unoptimized[0]}")
        records.append(record)
    first, second = ([(p.top1, p.mean_class_acc) for p in r.curve] for r in records)
    if first != second:
        raise ConformanceError(f"{method_cls.name} in {setting.value}: two runs of one spec on the CPU "
                               f"differ ({first} vs {second}); draw randomness from torch's seeded "
                               f"generators only")
    _check_prediction(arena, method_cls, pair)
    return Checked(setting.value, records[0].metrics.top1)


def _check_prediction(arena: Arena, method_cls: type[TransferMethod], pair: DomainPair) -> None:
    backbone = resolve_backbone(arena, BACKBONE, "none")
    state = create_model(backbone.model, len(pair.source.classes)).state_dict()
    method = build_method(method_cls, pair, backbone, 0, dict(method_cls.hparams), state).eval()
    with torch.no_grad():
        logits = method.predict(torch.randn(5, 3, 32, 32))
    wanted = (5, len(pair.target.classes))
    if tuple(logits.shape) != wanted:
        raise ConformanceError(f"{method_cls.name}: predict gave logits of shape {tuple(logits.shape)} "
                               f"for 5 images of {wanted[1]} target classes; expected {wanted}")


def _pair_for(setting: Setting) -> DomainPair:
    if setting is Setting.TASK:
        return _PAIRS[1]
    return _PAIRS[2] if setting.sees.multi_source else _PAIRS[0]


def _blobs(seed: int, shift: int, classes: tuple[str, ...] = _CLASSES) -> datasets.DatasetDict:
    """Each class a bright square at its own place on noise; ``shift`` moves every square (a domain)."""
    rng = np.random.default_rng(seed)
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=list(classes))})

    def split(per_class: int) -> datasets.Dataset:
        images, labels = [], []
        for label in range(len(classes)):
            for _ in range(per_class):
                pixels = rng.integers(0, 60, (16, 16), dtype=np.uint8)
                top = 2 + 4 * label + shift
                pixels[top:top + 4, 4 + shift:8 + shift] = 230
                images.append(Image.fromarray(pixels))
                labels.append(label)
        return datasets.Dataset.from_dict({"image": images, "label": labels}, features=features)

    return datasets.DatasetDict({"train": split(12), "test": split(4)})


_SOURCE = BuiltDataset("conformance-source", lambda: _blobs(0, 0), _CLASSES)
_SECOND_SOURCE = BuiltDataset("conformance-source-2", lambda: _blobs(1, 1), _CLASSES)
_TARGET = BuiltDataset("conformance-target", lambda: _blobs(2, 2), _CLASSES)
_NEW_TASK = BuiltDataset("conformance-new-task", lambda: _blobs(3, 0, ("x", "y")), ("x", "y"))
_PAIRS = (DomainPair(_SOURCE, _TARGET, "conformance"),
          DomainPair(_SOURCE, _NEW_TASK, "conformance"),
          DomainPair(MultiSource("conformance-pooled", (_SOURCE, _SECOND_SOURCE)), _TARGET, "conformance"))
