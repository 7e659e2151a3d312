"""Runs one spec to its record, sharing decoded data and source models between the specs it runs.

A run that raises, diverges or cannot apply is recorded as such (``tlarena.executors`` owns the
grid's loop, and the worker processes that contain what an exception cannot).
"""
from __future__ import annotations

import datetime as dt
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

from tlarena import assemble
from tlarena.data import SplitTensors, split_tensors
from tlarena.environment import environment
from tlarena.grid import incompatibility
from tlarena.methods import TransferMethod
from tlarena.models import Preprocessing, build_method, resolve_backbone
from tlarena.pairs import DataSource, DomainPair
from tlarena.partition import Evaluation, cut
from tlarena.plugins import Arena
from tlarena.records import Environment, Origins, RunRecord
from tlarena.settings import Setting
from tlarena.source_models import SourceModels
from tlarena.spec import RunSpec
from tlarena.streams import training_streams
from tlarena.trainer import Trainer


@dataclass
class Runner:
    """Runs specs, one at a time, sharing decoded data and source models between them.

    ``data_dir``: where local copies of hub datasets are read from (``None``: the hub only).
    """

    arena: Arena
    device: torch.device
    data_dir: Path | None = None
    _splits: dict = field(default_factory=dict)
    _source_models: SourceModels | None = None

    def __post_init__(self):
        self._source_models = SourceModels(self.device, self.arena.augmentations)

    def execute(self, spec: RunSpec) -> RunRecord:
        started = _now()
        env = Environment(**environment(self.device))
        origins = None
        try:
            method = self.arena.methods.get(spec.method)
            pair = self.arena.pairs.get(spec.pair)
            origins = Origins(self.arena.methods.origin(spec.method), self.arena.pairs.origin(spec.pair),
                              self.arena.backbones.origin(spec.backbone)
                              if spec.backbone in self.arena.backbones else "timm")
            reason = incompatibility(method, pair, Setting(spec.setting),
                                    resolve_backbone(self.arena, spec.backbone, spec.weights))
            record = RunRecord(spec, "n/a", reason) if reason else self._train(spec, method, pair)
        except Exception as error:
            record = RunRecord(spec, "failed", f"{type(error).__name__}: {error}",
                               traceback=traceback.format_exc())
        record.origins, record.environment = origins, env
        record.started_at, record.finished_at = started, _now()
        return record

    def _tensors(self, source: DataSource, split: str, preprocessing: Preprocessing) -> SplitTensors:
        key = (source.ref, source.name, split, preprocessing.image)
        if key not in self._splits:
            self._splits[key] = split_tensors(source, split, preprocessing.image, data_dir=self.data_dir)
        return self._splits[key]

    def _train(self, spec: RunSpec, method_cls: type[TransferMethod], pair: DomainPair) -> RunRecord:
        """Data parts, source model, method, streams, training, record: in that order."""
        backbone = resolve_backbone(self.arena, spec.backbone, spec.weights)
        budget, setting = spec.budget, Setting(spec.setting)
        preprocessing = Preprocessing.of(backbone, len(pair.target.classes))
        normalizer = preprocessing.normalizer(self.device)
        parts = cut(pair, setting, Evaluation(spec.evaluation), budget.shots, spec.seed,
                    lambda source, split: self._tensors(source, split, preprocessing))
        state = shared_cost = None
        if method_cls.init == "source":
            state, shared_cost = self._source_models.get(pair, backbone, spec.seed, budget, parts, normalizer)
        method = build_method(method_cls, pair, backbone, spec.seed, dict(spec.hparams), state)
        trainer = Trainer(self.device, normalizer)
        if setting.sees.online:
            outcome = trainer.fit_online(method, parts.target_test, budget.batch_size, spec.seed)
        else:
            streams = training_streams(method_cls, setting, parts, pair.augment, self.arena.augmentations,
                                       spec.seed, budget.batch_size, self.device)
            target = parts.target_pool if setting.sees.unlabeled_target else None
            source = parts.source_fit if method_cls.uses_source_data and setting.sees.source_data else None
            outcome = trainer.fit(method, streams, budget.steps, budget.eval_points, parts.target_test, target,
                                  source)
        return assemble.record(spec, method, outcome, trainer, parts, pair.shared_label_space, shared_cost)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
