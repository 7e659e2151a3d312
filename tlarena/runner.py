"""The grid: every (method × pair × setting × backbone × seed), each run isolated and recorded.

A run that raises, diverges or cannot apply is recorded as such; the grid always goes on.
"""
from __future__ import annotations

import datetime as dt
import random
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from tlarena import source_models
from tlarena.augment import AUGMENTATIONS
from tlarena.backbones import Backbone, create_model, data_config, count_parameters
from tlarena.data import BatchStream, ImageSpec, SplitTensors, few_shot_indices, split_tensors
from tlarena.environment import environment
from tlarena.methods import Network, TransferMethod, sample_hparams
from tlarena.metrics import convergence
from tlarena.pairs import DataSource, DomainPair
from tlarena.plugins import Arena
from tlarena.records import RunRecord, clean_temporaries, recorded_keys, write_record
from tlarena.settings import Setting, settings_for
from tlarena.spec import Budget, RunSpec
from tlarena.trainer import Normalizer, Streams, Trainer


def incompatibility(method: type[TransferMethod], pair: DomainPair, setting: Setting) -> str | None:
    """Why (method, pair, setting) cannot run, or None when it can."""
    if setting not in settings_for(pair.shared_label_space):
        kind = "shares" if pair.shared_label_space else "does not share"
        return f"{pair.name} {kind} the source's label space, so setting {setting.value} does not apply"
    if setting not in method.settings:
        allowed = ", ".join(sorted(s.value for s in method.settings))
        why = " (the target's label space differs from the source's)" if setting is Setting.TASK else ""
        return f"{method.name} runs only in {allowed}, not in {setting.value}{why}"
    return None


def grid(arena: Arena, methods: Iterable[str], pairs: Iterable[str], backbone: str, weights: str,
         seeds: Iterable[int], budget: Budget, settings: Iterable[Setting] | None = None) -> list[RunSpec]:
    """Every spec of the grid, n/a cells included (they are recorded with their reason)."""
    wanted = set(settings) if settings is not None else set(Setting)
    specs = []
    for pair_name in pairs:
        pair = arena.pairs.get(pair_name)
        for setting in settings_for(pair.shared_label_space):
            if setting not in wanted:
                continue
            for method_name in methods:
                method = arena.methods.get(method_name)
                hparams = tuple(sorted(sample_hparams(method, 0).items()))
                for seed in seeds:
                    specs.append(RunSpec(method_name, pair_name, backbone, weights, setting.value,
                                         seed, budget, hparams))
    return specs


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
        env = environment(self.device)
        try:
            method = self.arena.methods.get(spec.method)
            pair = self.arena.pairs.get(spec.pair)
            reason = incompatibility(method, pair, Setting(spec.setting))
            if reason:
                return RunRecord(spec, "n/a", reason, environment=env, started_at=started,
                                 finished_at=_now())
            record = self._train(spec, method, pair)
        except Exception as error:
            record = RunRecord(spec, "failed", f"{type(error).__name__}: {error}",
                               traceback=traceback.format_exc())
        record.environment, record.started_at, record.finished_at = env, started, _now()
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
        probe = create_model(backbone.model, target_classes)
        config = data_config(probe)
        channels, height, width = config["input_size"]
        image = ImageSpec(channels, height, width, config.get("interpolation", "bilinear"))
        normalizer = Normalizer(tuple(config["mean"]), tuple(config["std"]), self.device)
        target_test = self._tensors(pair.target, "test", image)

        shared_cost = None
        if method_cls.init == "source":
            state, shared_cost = self._source_model(pair, backbone, spec.seed, budget, image, normalizer)
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
        streams = Streams()
        if method_cls.trains:
            streams = self._streams(method_cls, pair, Setting(spec.setting), spec.seed, budget, image)
        outcome = Trainer(self.device, normalizer).fit(method, streams, budget.steps,
                                                       budget.eval_points, target_test)
        trainable, total = count_parameters(method)
        cost = {
            "train_seconds": outcome.train_seconds,
            "eval_seconds": outcome.eval_seconds,
            "throughput": outcome.samples / outcome.train_seconds if outcome.train_seconds else None,
            "train_flops": outcome.train_flops,
            "eval_flops": outcome.eval_flops,
            "peak_memory_bytes": outcome.peak_memory_bytes,
            "peak_memory_kind": outcome.peak_memory_kind,
            "trainable_params": trainable if method_cls.trains else 0,
            "total_params": total,
            "steps": outcome.steps,
            "samples": outcome.samples,
        }
        curve = [point.__dict__ for point in outcome.curve]
        if outcome.diverged_at is not None:
            return RunRecord(spec, "diverged", f"non-finite loss by step {outcome.diverged_at}",
                             curve=curve, cost=cost, shared_cost=shared_cost)
        final = outcome.curve[-1]
        metrics = {"top1": final.top1, "mean_class_acc": final.mean_class_acc,
                   **convergence(outcome.curve)}
        return RunRecord(spec, "ok", metrics=metrics, curve=curve, cost=cost, shared_cost=shared_cost)

    def _streams(self, method_cls, pair, setting, seed, budget, image) -> Streams:
        def stream(split, stream_seed):
            return BatchStream(split, budget.batch_size, stream_seed, self.device, augment)

        augment = AUGMENTATIONS[pair.augment]
        target_train = self._tensors(pair.target, "train", image)
        streams = Streams()
        if method_cls.uses_source_data:
            streams.source = stream(self._tensors(pair.source, "train", image), seed)
        if setting is Setting.FEW_SHOT:
            labeled = target_train.subset(few_shot_indices(target_train.labels, budget.shots, seed))
            streams.target = stream(labeled, seed + 1)
        elif setting in (Setting.SUPERVISED, Setting.TASK):
            streams.target = stream(target_train, seed + 1)
        if method_cls.uses_unlabeled_target:
            streams.unlabeled = stream(target_train, seed + 2)
        return streams

    def _source_model(self, pair, backbone, seed, budget, image, normalizer):
        source_train = self._tensors(pair.source, "train", image)
        key = source_models.SourceModelKey.of(pair, source_train.fingerprint, backbone, seed, budget)
        cached = source_models.load(key)
        if cached is None:
            seed_everything(seed)
            model = create_model(backbone.model, len(pair.source.classes), backbone.weights)
            method = source_models.SourceTraining(Network(model), len(pair.source.classes),
                                                  dict(source_models.SOURCE_HPARAMS))
            streams = Streams(source=BatchStream(source_train, budget.batch_size, seed, self.device,
                                                 AUGMENTATIONS[pair.augment]))
            outcome = Trainer(self.device, normalizer).fit(
                method, streams, budget.source_steps, 1, self._tensors(pair.source, "test", image))
            if outcome.diverged_at is not None:
                raise RuntimeError(f"the source model diverged at step {outcome.diverged_at}")
            cost = {"source": pair.source.name, "source_test_top1": outcome.curve[-1].top1,
                    "train_seconds": outcome.train_seconds, "train_flops": outcome.train_flops,
                    "steps": outcome.steps, "peak_memory_bytes": outcome.peak_memory_bytes,
                    "device": self.device.type}
            source_models.save(key, model, cost)
            cached = source_models.load(key)
        return cached


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
