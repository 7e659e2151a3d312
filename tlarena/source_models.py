"""The shared source model: trained once per (source data, backbone, seed, source budget), reused.

The source data is identified by the fingerprint of its decoded training split, not by the pair's
names: two sources on one hub dataset (two domains of one split, or ``train[:2000]`` and ``train``)
and a local copy that differs from the hub's each get their own model.

Every method that starts from the source model loads it from a safetensors file in the cache; its
training cost is recorded once, beside the file, and reported apart from each method's own cost.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from tlarena.backbones import Backbone
from tlarena.methods import Batch, TransferMethod
from tlarena.pairs import DomainPair
from tlarena.settings import Setting
from tlarena.sources import cache_root
from tlarena.protocol import PROTOCOL
from tlarena.spec import Budget

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
        text = json.dumps({"protocol": PROTOCOL, "hparams": SOURCE_HPARAMS, **self.__dict__},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def _paths(key: SourceModelKey) -> tuple[Path, Path]:
    base = cache_root() / "source-models" / key.digest
    return base.with_suffix(".safetensors"), base.with_suffix(".json")


def load(key: SourceModelKey) -> tuple[dict[str, torch.Tensor], dict] | None:
    """The cached weights and their cost record, or None when this source model was never trained."""
    weights, meta = _paths(key)
    if not (weights.exists() and meta.exists()):
        return None
    return load_file(str(weights)), json.loads(meta.read_text())


def save(key: SourceModelKey, model: torch.nn.Module, cost: dict) -> None:
    """Weights first, the cost record last: a source model counts as cached once both exist."""
    weights, meta = _paths(key)
    weights.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for path, write in ((weights, lambda p: save_file(state, str(p))),
                        (meta, lambda p: p.write_text(json.dumps({"key": key.digest, **cost}, indent=1)))):
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        write(tmp)
        os.replace(tmp, path)
