"""The shared source model: trained once per (source data, backbone, seed, source budget), reused.

The source data is identified by the fingerprint of its decoded training split, not by the pair's
names: two sources on one hub dataset (two domains of one split, or ``train[:2000]`` and ``train``)
and a local copy that differs from the hub's each get their own model.

Every method that starts from the source model loads it from a safetensors file in the cache; its
training cost is recorded once, beside the file, and reported apart from each method's own cost.
Processes that need one source model at once train it once: the first claims it
(``tlarena.claims``), the others wait for its files.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from tlarena import claims, phases
from tlarena.backbones import Backbone, create_model
from tlarena.data import BatchStream
from tlarena.data.augment import NONE, Augmentation
from tlarena.data.paths import cache_root
from tlarena.methods import Batch, Network, TransferMethod
from tlarena.models import seed_everything
from tlarena.pairs import DomainPair
from tlarena.partition import Parts
from tlarena.protocol import FINGERPRINT, PROTOCOL
from tlarena.records import SharedCost
from tlarena.registry import Registry
from tlarena.settings import Setting
from tlarena.spec import Budget
from tlarena.trainer import Normalizer, Streams, Trainer

SOURCE_HPARAMS = {"lr": 0.05, "weight_decay": 5e-4}   # random init: a scratch-sized rate


class SourceTraining(TransferMethod):
    """Empirical risk minimization on labeled source data: how the shared source model is made."""

    name = "source-training"
    family = "parameter transfer"
    paper = "Vapnik, 'Principles of Risk Minimization for Learning Theory', NeurIPS 1991"
    settings = frozenset(Setting)
    uses_source_data = True

    def training_step(self, batch: Batch) -> torch.Tensor:
        images, labels = batch.source
        return F.cross_entropy(self.network(images), labels)


@dataclass(frozen=True)
class SourceModelKey:
    source_ref: str
    source_data: str        # SplitTensors.fingerprint of the source's fit part
    backbone_model: str
    weights: str
    seed: int
    steps: int
    batch_size: int
    augment: str

    @classmethod
    def of(cls, pair: DomainPair, source_data: str, backbone: Backbone, seed: int,
           budget: Budget) -> "SourceModelKey":
        return cls(pair.source.ref, source_data, backbone.model, backbone.weights, seed,
                   budget.source_steps, budget.batch_size, pair.augment)

    @property
    def digest(self) -> str:
        # The fingerprint too: a source model trained by code that decided numbers differently
        # (a development tree under the same protocol number) is never reused.
        text = json.dumps({"protocol": PROTOCOL, "fingerprint": FINGERPRINT, "hparams": SOURCE_HPARAMS,
                           **self.__dict__},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def _paths(key: SourceModelKey) -> tuple[Path, Path]:
    base = cache_root() / "source-models" / key.digest
    return base.with_suffix(".safetensors"), base.with_suffix(".json")


def load(key: SourceModelKey) -> tuple[dict[str, torch.Tensor], dict] | None:
    """The cached weights and their cost record, or None when this source model was never trained:
    then this process holds its claim and trains it, and ``save`` (or ``release_unfinished``)
    releases it. While another process trains it, wait for its files."""
    weights, meta = _paths(key)

    def cached() -> bool:
        return weights.exists() and meta.exists()

    if not cached() and key.digest not in _building:
        claim = claims.wait(claims.claim_path(weights), cached)
        if claim is not None and not cached():
            _building[key.digest] = claim
        elif claim is not None:
            claim.release()
    if key.digest in _building:
        return None
    return load_file(str(weights)), json.loads(meta.read_text())


_building: dict[str, claims.Claim] = {}   # the source models this process has claimed to train


def release_unfinished() -> None:
    """Release the claims of source models this process did not finish (their training raised)."""
    while _building:
        _building.popitem()[1].release()


def save(key: SourceModelKey, model: torch.nn.Module, cost: dict) -> None:
    """Weights first, the cost record last: a source model counts as cached once both exist."""
    _save(key, model, cost)
    claim = _building.pop(key.digest, None)
    if claim is not None:
        claim.release()


def _save(key: SourceModelKey, model: torch.nn.Module, cost: dict) -> None:
    weights, meta = _paths(key)
    weights.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for path, write in ((weights, lambda p: save_file(state, str(p))),
                        (meta, lambda p: p.write_text(json.dumps({"key": key.digest, **cost}, indent=1)))):
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        write(tmp)
        os.replace(tmp, path)


@dataclass
class SourceModels:
    """Gives each run its shared source model: from the cache, else trained once and cached."""

    device: torch.device
    augmentations: Registry[Augmentation]
    _scores: dict = field(default_factory=dict)

    def get(self, pair: DomainPair, backbone: Backbone, seed: int, budget: Budget, parts: Parts,
            normalizer: Normalizer) -> tuple[dict, SharedCost]:
        """The source model's weights and its cost, with its accuracy measured on this pair's own
        source parts: another pair with the same source training data may test on other images."""
        key = SourceModelKey.of(pair, parts.source_fit.fingerprint, backbone, seed, budget)
        cached = load(key)
        if cached is None:
            self._train(key, pair, backbone, seed, budget, parts, normalizer)
            cached = load(key)
        state, cost = cached
        scores = (key.digest, parts.source_test.fingerprint, parts.source_val.fingerprint)
        if scores not in self._scores:
            model = create_model(backbone.model, len(pair.source.classes))
            model.load_state_dict(state)
            source_model = SourceTraining(Network(model), len(pair.source.classes), {})
            source_model.to(self.device)
            trainer = Trainer(self.device, normalizer)
            self._scores[scores] = (trainer.evaluate(source_model, parts.source_test)[0],
                                    trainer.evaluate(source_model, parts.source_val)[0])
        test_top1, val_top1 = self._scores[scores]
        return state, SharedCost(pair.source.name, test_top1, val_top1, cost["train_seconds"],
                                 cost["train_flops"], cost["steps"], cost["peak_memory_bytes"],
                                 cost["device"])

    def _train(self, key: SourceModelKey, pair: DomainPair, backbone: Backbone, seed: int, budget: Budget,
               parts: Parts, normalizer: Normalizer) -> None:
        seed_everything(seed)
        model = create_model(backbone.model, len(pair.source.classes), backbone.weights)
        method = SourceTraining(Network(model), len(pair.source.classes), dict(SOURCE_HPARAMS))
        augment = None if pair.augment == NONE else self.augmentations.get(pair.augment).apply
        streams = Streams(source=BatchStream(parts.source_fit, budget.batch_size, seed, self.device, augment))
        with phases.training(phases.TRAINING_SOURCE):
            outcome = Trainer(self.device, normalizer).fit(method, streams, budget.source_steps, 1, parts.source_val)
        if outcome.diverged_at is not None:
            raise RuntimeError(f"the source model diverged at step {outcome.diverged_at}")
        save(key, model, {"train_seconds": outcome.train_seconds, "train_flops": outcome.train_flops,
                          "steps": outcome.steps, "peak_memory_bytes": outcome.peak_memory_bytes,
                          "device": self.device.type})
