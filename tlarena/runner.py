"""Runs specs one at a time, each isolated and recorded, sharing decoded data and source models.

A run that raises, diverges or cannot apply is recorded as such; the grid always goes on.
"""
from __future__ import annotations

import datetime as dt
import random
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from tlarena import source_models
from tlarena.augment import AUGMENTATIONS
from tlarena.backbones import Backbone, count_parameters, create_model, data_config
from tlarena.data import BatchStream, ImageSpec, SplitTensors, split_tensors
from tlarena.environment import environment
from tlarena.grid import incompatibility
from tlarena.methods import Network, TransferMethod
from tlarena.metrics import convergence
from tlarena.pairs import DataSource, DomainPair
from tlarena.partition import Evaluation, Parts, cut
from tlarena.plugins import Arena
from tlarena.records import (Cost, DataPart, Environment, Metrics, Origins, RunRecord, SharedCost,
                             Validation, clean_temporaries, recorded_keys, write_record)
from tlarena.selection import information_maximization, soft_neighborhood_density, validator_rows
from tlarena.settings import Setting
from tlarena.spec import RunSpec
from tlarena.trainer import Normalizer, Streams, Trainer


def resolve_backbone(arena: Arena, name: str, weights: str | None) -> Backbone:
    """A registered backbone, or any timm model by name."""
    base = arena.backbones.get(name) if name in arena.backbones else Backbone(name, name)
    return Backbone(base.name, base.model, weights or base.weights, base.description)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class Runner:
    """Runs specs, one at a time, sharing decoded data and source models between them."""

    arena: Arena
    results: Path
    device: torch.device
    _splits: dict = field(default_factory=dict)
    _source_scores: dict = field(default_factory=dict)

    def run(self, specs: list[RunSpec], rerun: bool = False,
            progress: Callable[[RunSpec, str], None] | None = None) -> list[RunRecord]:
        """Run every spec not yet recorded (all of them with ``rerun``); return the new records."""
        clean_temporaries(self.results)
        done = set() if rerun else recorded_keys(self.results)
        new = []
        for spec in specs:
            if spec.key in done:
                if progress:
                    progress(spec, "recorded")
                continue
            record = self.execute(spec)
            write_record(self.results, record)
            done.add(spec.key)
            new.append(record)
            for problem in self.arena.notify_run_finished(record):
                print(f"warning: {problem}")
            if progress:
                progress(spec, record.status)
        return new

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
            reason = incompatibility(method, pair, Setting(spec.setting))
            record = RunRecord(spec, "n/a", reason) if reason else self._train(spec, method, pair)
        except Exception as error:
            record = RunRecord(spec, "failed", f"{type(error).__name__}: {error}",
                               traceback=traceback.format_exc())
        record.origins, record.environment = origins, env
        record.started_at, record.finished_at = started, _now()
        return record

    def _tensors(self, source: DataSource, split: str, image: ImageSpec) -> SplitTensors:
        key = (source.ref, source.name, split, image)
        if key not in self._splits:
            self._splits[key] = split_tensors(source, split, image)
        return self._splits[key]

    def _train(self, spec: RunSpec, method_cls: type[TransferMethod], pair: DomainPair) -> RunRecord:
        backbone = resolve_backbone(self.arena, spec.backbone, spec.weights)
        budget = spec.budget
        source_classes, target_classes = len(pair.source.classes), len(pair.target.classes)
        config = data_config(create_model(backbone.model, target_classes))
        channels, height, width = config["input_size"]
        image = ImageSpec(channels, height, width, config.get("interpolation", "bilinear"))
        normalizer = Normalizer(tuple(config["mean"]), tuple(config["std"]), self.device)
        parts = cut(pair, Setting(spec.setting), Evaluation(spec.evaluation), budget.shots, spec.seed,
                    lambda source, split: self._tensors(source, split, image))

        shared_cost = None
        if method_cls.init == "source":
            state, shared_cost = self._source_model(pair, backbone, spec.seed, budget, parts, normalizer)
            seed_everything(spec.seed)
            model = create_model(backbone.model, source_classes)
            model.load_state_dict(state)
            if not pair.shared_label_space:
                model.reset_classifier(target_classes)
        else:
            seed_everything(spec.seed)
            weights = "none" if method_cls.init == "random" else backbone.weights
            model = create_model(backbone.model, target_classes, weights)

        method = method_cls(Network(model), target_classes, dict(spec.hparams))
        streams = self._streams(method_cls, pair, parts, spec.seed, budget.batch_size) \
            if method_cls.trains else Streams()
        trainer = Trainer(self.device, normalizer)
        outcome = trainer.fit(method, streams, budget.steps, budget.eval_points, parts.target_test)
        provenance = [DataPart(side, part, len(tensors), tensors.fingerprint)
                      for (side, part), tensors in parts.named().items()]
        common = dict(curve=outcome.curve, shared_cost=shared_cost, data=provenance)
        if outcome.diverged_at is not None:
            return RunRecord(spec, "diverged", f"non-finite loss by step {outcome.diverged_at}", **common)
        validation, validation_seconds = self._validation(trainer, method, parts, pair.shared_label_space)
        trainable, total = count_parameters(method)
        cost = Cost(
            train_seconds=outcome.train_seconds,
            eval_seconds=outcome.eval_seconds + validation_seconds,
            throughput=outcome.samples / outcome.train_seconds if outcome.train_seconds else None,
            train_flops=outcome.train_flops, eval_flops=outcome.eval_flops,
            peak_memory_bytes=outcome.peak_memory_bytes, peak_memory_kind=outcome.peak_memory_kind,
            trainable_params=trainable if method_cls.trains else 0, total_params=total,
            steps=outcome.steps, samples=outcome.samples)
        final = outcome.curve[-1]
        metrics = Metrics(final.top1, final.mean_class_acc, **convergence(outcome.curve))
        return RunRecord(spec, "ok", metrics=metrics, validation=validation, cost=cost, **common)

    def _streams(self, method_cls, pair: DomainPair, parts: Parts, seed: int, batch_size: int) -> Streams:
        """The streams the setting allows and the method asks for; a method never sees a test part."""
        def stream(split, stream_seed):
            return BatchStream(split, batch_size, stream_seed, self.device, AUGMENTATIONS[pair.augment])

        streams = Streams()
        if method_cls.uses_source_data:
            streams.source = stream(parts.source_fit, seed)
        if parts.target_labeled is not None:
            streams.target = stream(parts.target_labeled, seed + 1)
        if method_cls.uses_unlabeled_target:
            streams.unlabeled = stream(parts.target_pool, seed + 2)
        return streams

    @staticmethod
    def _validation(trainer: Trainer, method: TransferMethod, parts: Parts,
                    shared_label_space: bool) -> tuple[Validation, float]:
        """Every selection rule's score of the trained method, and the seconds they took."""
        started = trainer.clock.now()
        probabilities = trainer.probabilities(method, parts.target_pool,
                                              validator_rows(len(parts.target_pool)))
        validation = Validation(
            source_val_top1=trainer.evaluate(method, parts.source_val)[0] if shared_label_space else None,
            target_val_top1=trainer.evaluate(method, parts.target_val)[0] if parts.target_val is not None else None,
            im=information_maximization(probabilities),
            snd=soft_neighborhood_density(probabilities))
        return validation, trainer.clock.now() - started

    def _source_model(self, pair: DomainPair, backbone: Backbone, seed: int, budget, parts: Parts,
                      normalizer: Normalizer) -> tuple[dict, SharedCost]:
        """The shared source model's weights (trained once, cached) and its cost, with its accuracy
        measured on this pair's own source parts: another pair with the same source training data
        may test on other images."""
        key = source_models.SourceModelKey.of(pair, parts.source_fit.fingerprint, backbone, seed, budget)
        cached = source_models.load(key)
        if cached is None:
            seed_everything(seed)
            model = create_model(backbone.model, len(pair.source.classes), backbone.weights)
            method = source_models.SourceTraining(Network(model), len(pair.source.classes),
                                                  dict(source_models.SOURCE_HPARAMS))
            streams = Streams(source=BatchStream(parts.source_fit, budget.batch_size, seed, self.device,
                                                 AUGMENTATIONS[pair.augment]))
            outcome = Trainer(self.device, normalizer).fit(method, streams, budget.source_steps, 1,
                                                           parts.source_val)
            if outcome.diverged_at is not None:
                raise RuntimeError(f"the source model diverged at step {outcome.diverged_at}")
            source_models.save(key, model, {
                "train_seconds": outcome.train_seconds,
                "train_flops": outcome.train_flops, "steps": outcome.steps,
                "peak_memory_bytes": outcome.peak_memory_bytes, "device": self.device.type})
            cached = source_models.load(key)
        state, cost = cached
        scores = (key.digest, parts.source_test.fingerprint, parts.source_val.fingerprint)
        if scores not in self._source_scores:
            model = create_model(backbone.model, len(pair.source.classes))
            model.load_state_dict(state)
            source_model = source_models.SourceTraining(Network(model), len(pair.source.classes), {})
            source_model.to(self.device)
            trainer = Trainer(self.device, normalizer)
            self._source_scores[scores] = (trainer.evaluate(source_model, parts.source_test)[0],
                                           trainer.evaluate(source_model, parts.source_val)[0])
        test_top1, val_top1 = self._source_scores[scores]
        return state, SharedCost(pair.source.name, test_top1, val_top1, cost["train_seconds"],
                                 cost["train_flops"], cost["steps"], cost["peak_memory_bytes"],
                                 cost["device"])


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
