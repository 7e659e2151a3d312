"""The transfer-method contract: a method owns its modules, the loss of one step and its prediction.

The harness owns everything else: data streams, optimizer, schedule, clock, evaluation and records.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import ClassVar, Iterator

import torch
from torch import nn

from tlarena.settings import Setting

FAMILIES = (
    "parameter transfer",
    "feature transfer",
    "task transfer",
    "domain adaptation",
    "self-training",
)


@dataclass
class Batch:
    """One training step's data. A stream is ``None`` unless the method uses it and the setting has it."""

    source: tuple[torch.Tensor, torch.Tensor] | None = None   # labeled source images, labels
    target: tuple[torch.Tensor, torch.Tensor] | None = None   # labeled target images, labels
    unlabeled: torch.Tensor | None = None                     # target images without labels


class Network(nn.Module):
    """A timm classifier seen as features → head, the split most transfer methods work on."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    @property
    def feature_dim(self) -> int:
        return self.model.num_features

    @property
    def head(self) -> nn.Module:
        return self.model.get_classifier()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_head(self.model.forward_features(x), pre_logits=True)

    def backbone_parameters(self) -> Iterator[nn.Parameter]:
        head = {id(p) for p in self.head.parameters()}
        return (p for p in self.model.parameters() if id(p) not in head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class TransferMethod(nn.Module):
    """Base class of every transfer method. Subclass it, set the class attributes, write the math.

    Class attributes:
      name, family (one of ``FAMILIES``), paper (the citation), settings (where it can run),
      init: ``"source"`` starts from the shared source model, ``"random"`` from random weights;
      uses_source_data: whether each step also gets a labeled source batch;
      uses_unlabeled_target: whether each step also gets a batch of target images without labels;
      trains: ``False`` for methods applied as they are (no optimizer steps);
      hparams: defaults; search_space: ``{name: ("log"|"uniform", low, high) | [choices]}``.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    settings: ClassVar[frozenset[Setting]] = frozenset()
    init: ClassVar[str] = "source"
    uses_source_data: ClassVar[bool] = False
    uses_unlabeled_target: ClassVar[bool] = False
    trains: ClassVar[bool] = True
    hparams: ClassVar[dict] = {"lr": 0.01, "weight_decay": 5e-4}
    search_space: ClassVar[dict] = {}

    def __init__(self, network: Network, num_classes: int, hparams: dict):
        super().__init__()
        self.network = network
        self.num_classes = num_classes
        self.hp = hparams

    def parameter_groups(self) -> list[dict]:
        """Optimizer parameter groups; a group may carry ``lr_scale``. Default: all trainable parameters."""
        return [{"params": [p for p in self.parameters() if p.requires_grad]}]

    def training_step(self, batch: Batch) -> torch.Tensor:
        """The loss of one step. The harness calls backward and steps the optimizer."""
        raise NotImplementedError(f"{type(self).__name__} trains but defines no training_step")

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Target-class logits for a batch of images."""
        return self.network(x)


def sample_hparams(method: type[TransferMethod], seed: int) -> dict:
    """Seed 0 gives the defaults; other seeds draw from the search space, deterministically."""
    values = dict(method.hparams)
    if seed == 0:
        return values
    rng = random.Random(f"{method.name}:{seed}")
    for key, space in method.search_space.items():
        if isinstance(space, list):
            values[key] = rng.choice(space)
        else:
            kind, low, high = space
            if kind == "log":
                values[key] = math.exp(rng.uniform(math.log(low), math.log(high)))
            else:
                values[key] = rng.uniform(low, high)
    return values
