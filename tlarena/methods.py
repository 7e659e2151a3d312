"""The transfer-method contract: a method owns its modules, the loss of one step and its prediction.

The harness owns everything else: data streams, optimizer, schedule, clock, evaluation and records.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterator

import torch
from torch import nn

from tlarena.settings import Setting

FAMILIES = (
    "parameter transfer",
    "feature transfer",
    "instance transfer",
    "task transfer",
    "domain adaptation",
    "domain generalization",
    "self-training",
    "test-time adaptation",
)

Labeled = tuple[torch.Tensor, torch.Tensor]
STREAM_FLAGS = {"source": "uses_source_data", "unlabeled": "uses_unlabeled_target"}


class ContractError(RuntimeError):
    """A method broke a rule of the contract; the message names the method and the rule."""


@dataclass(frozen=True)
class Progress:
    """Where training stands: ``step`` of ``steps`` optimizer steps (1-based while training)."""

    step: int
    steps: int

    @property
    def p(self) -> float:
        """The fraction of the budget done, in [0, 1]: the ``p`` of DANN's schedules."""
        return min(1.0, self.step / self.steps) if self.steps else 1.0


@dataclass(frozen=True)
class Update:
    """One named update of a step: the loss ``name`` steps the parameter groups ``groups``.

    A method that declares ``updates`` gets ``training_step(batch, update)`` once per update (and
    ``repeat`` times in a row), in the declared order, each with its own optimizer (MCD, ADDA,
    DomainBed's ``d_steps_per_g``).
    """

    name: str
    groups: tuple[str, ...]
    repeat: int = 1


class Batch:
    """One training step's data.

    ``source``: (images, labels) of the source; ``target``: labeled target; ``unlabeled``: target
    images without labels; ``source_domains``: the domain index of each source image (0 unless the
    source pools several domains); ``views[stream][name]``: the views a method declared, each an
    augmentation of the same images; ``rows[stream]``: the row of each image in its split (CPU int64),
    the order a phase sees the split in, so per-image work (frozen features) is done once. A stream
    the setting does not have is ``None``; reading a stream the method did not declare raises
    ``ContractError`` naming the flag to set.
    """

    def __init__(self, source: Labeled | None = None, target: Labeled | None = None,
                 unlabeled: torch.Tensor | None = None, *, source_domains: torch.Tensor | None = None,
                 views: dict[str, dict[str, torch.Tensor]] | None = None, method: str = "",
                 undeclared: frozenset[str] = frozenset(), rows: dict[str, torch.Tensor] | None = None):
        self._streams = {"source": source, "target": target, "unlabeled": unlabeled}
        self.source_domains = source_domains
        self.views = views or {}
        self.rows = rows or {}
        self._method, self._undeclared = method, undeclared

    def _stream(self, name: str):
        if name in self._undeclared:
            raise ContractError(f"method {self._method!r} reads batch.{name} but does not declare it: "
                                f"set {STREAM_FLAGS[name]} = True")
        return self._streams[name]

    source = property(lambda self: self._stream("source"))
    target = property(lambda self: self._stream("target"))
    unlabeled = property(lambda self: self._stream("unlabeled"))


@dataclass
class TargetImages:
    """The unlabeled target training images, for a phase: normalized batches on the device, in order."""

    count: int
    _batches: Callable[[int], Iterator[torch.Tensor]] = field(repr=False)

    def batches(self, size: int = 256) -> Iterator[torch.Tensor]:
        return self._batches(size)


@dataclass
class SourceImages:
    """The labeled source training images, for the phase of a method with ``phase_sees_source``:
    (normalized images, labels) batches on the device, in row order (``Batch.rows["source"]``)."""

    count: int
    _batches: Callable[[int], Iterator[Labeled]] = field(repr=False)

    def batches(self, size: int = 256) -> Iterator[Labeled]:
        return self._batches(size)


class Network(nn.Module):
    """A timm classifier seen as features → head, the split most transfer methods work on.

    ``source_classes`` names the classes its head was trained on (None for a fresh head).
    """

    def __init__(self, model: nn.Module, source_classes: tuple[str, ...] | None = None):
        super().__init__()
        self.model = model
        self.source_classes = source_classes

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
      init: ``"source"`` starts from the shared source model, ``"backbone"`` from the backbone's
      weights, ``"random"`` from random weights;
      uses_source_data: whether each step also gets a labeled source batch;
      uses_unlabeled_target: whether each step also gets a batch of target images without labels;
      unlabeled_ratio: unlabeled images per labeled image in a step (FixMatch's μ);
      views: ``{stream: (augmentation, ...)}``, the views of each image of a stream a step gets;
      phase_every: run ``phase`` before step 1 and then every this many steps (0: only before step 1);
        a method that does not train runs it once, before it is evaluated;
      phase_sees_source: the phase also gets the labeled source images, ``phase(target, source)``,
      where the method uses source data and the setting has it (shallow CORAL, TCA);
      keeps_source_head: in ``task``, get the source head as it is instead of a fresh target head;
      updates: named updates of a step, in order (see ``Update``); empty: one loss steps everything;
      trains: ``False`` for methods applied as they are (no optimizer steps);
      requires_layers: layer types the method adapts (TENT, AdaBN: batch norm); on a backbone with
        none of them, its cells are n/a;
      hparams: defaults; search_space: ``{name: ("log"|"uniform", low, high) | [choices]}``.

    The harness sets ``self.progress`` (a ``Progress``) before every ``training_step``.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    settings: ClassVar[frozenset[Setting]] = frozenset()
    init: ClassVar[str] = "source"
    uses_source_data: ClassVar[bool] = False
    uses_unlabeled_target: ClassVar[bool] = False
    unlabeled_ratio: ClassVar[int] = 1
    views: ClassVar[dict[str, tuple[str, ...]]] = {}
    phase_every: ClassVar[int] = 0
    phase_sees_source: ClassVar[bool] = False
    keeps_source_head: ClassVar[bool] = False
    updates: ClassVar[tuple[Update, ...]] = ()
    trains: ClassVar[bool] = True
    requires_layers: ClassVar[tuple[type[nn.Module], ...]] = ()
    hparams: ClassVar[dict] = {"lr": 0.01, "weight_decay": 5e-4}
    search_space: ClassVar[dict] = {}

    def __init__(self, network: Network, num_classes: int, hparams: dict):
        super().__init__()
        self.network = network
        self.num_classes = num_classes
        self.hp = hparams
        self.progress = Progress(0, 0)

    def parameter_groups(self) -> list[dict]:
        """Optimizer parameter groups; a group may carry ``lr_scale`` and, for ``updates``, a ``name``.
        Default: all trainable parameters."""
        return [{"params": [p for p in self.parameters() if p.requires_grad]}]

    def training_step(self, batch: Batch) -> torch.Tensor:
        """The loss of one step (a scalar tensor). The harness calls backward and steps the optimizer."""
        raise NotImplementedError(f"{type(self).__name__} trains but defines no training_step")

    def phase(self, target: TargetImages, source: SourceImages | None = None) -> None:
        """Optional: work over the whole unlabeled target set (pseudo-labels, statistics), run without
        gradients before step 1 and every ``phase_every`` steps (once before evaluation for a method
        that does not train); its time counts as training. ``source`` is passed only to a method with
        ``phase_sees_source``."""

    def adapt(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Test-time setting: (logits, loss) for one test batch. The harness scores the logits, then
        steps the optimizer on the loss before the next batch."""
        raise NotImplementedError(f"{type(self).__name__} runs in test-time but defines no adapt")

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Target-class logits for a batch of images."""
        return self.network(x)


def check_loss(method: TransferMethod, loss, update: str | None, hook: str = "training_step") -> None:
    """Refuse a loss the harness cannot step on, naming the method and the rule it broke."""
    where = hook + (f" (update {update!r})" if update else "")
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        shown = f"a tensor of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ContractError(f"method {method.name!r}: {where} must return the loss as a scalar tensor "
                            f"(0-dimensional, with a gradient), not {shown}")
    if not loss.requires_grad:
        raise ContractError(f"method {method.name!r}: {where} returned a loss that depends on no trainable "
                            f"parameter (it has no gradient)")


def has_phase(method: type[TransferMethod]) -> bool:
    return method.phase is not TransferMethod.phase


# The hyperparameters the harness's optimizer reads from every method (``tlarena.optimizers``), each
# a number in its range (a rate of 0 trains nothing); the method reads the rest through ``self.hp``.
HARNESS_HPARAMS = {"lr": (lambda v: v > 0, "must be above 0"),
                   "weight_decay": (lambda v: v >= 0, "must be 0 or more"),
                   "momentum": (lambda v: 0 <= v < 1, "must be from 0 up to, not including, 1")}


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
