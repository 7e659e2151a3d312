"""Task transfer to a new label space, written once and public for any plugin to import.

``SourceAndTargetHeads``, the base of methods that keep the source head for the source task and add a
head for the target task on the shared features; ``Frozen``, a copy of a module as it is when made;
``distillation``, the soft cross-entropy that keeps a head's responses; and ``Laterals``, the lateral
connections of a progressive network from a frozen source column into a new target column. The
methods in ``tlarena_plugins.methods`` cite the papers.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from tlarena.methods import Network, TransferMethod
from tlarena.parameter_transfer import stages
from tlarena.settings import Setting


class SourceAndTargetHeads(TransferMethod):
    """Base of methods with two heads on one shared feature extractor, both trained: the source
    head, kept as the source model left it (``keeps_source_head``), and ``target_head``, a fresh
    linear head for the target's classes, which is what ``predict`` answers with."""

    family = "task transfer"
    settings = frozenset({Setting.TASK})
    init = "source"
    keeps_source_head = True

    def __init__(self, network: Network, num_classes: int, hparams: dict):
        super().__init__(network, num_classes, hparams)
        self.target_head = nn.Linear(network.feature_dim, num_classes)

    def heads(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(source-class logits, target-class logits) of ``images``, from one pass of the features."""
        features = self.network.features(images)
        return self.network.head(features), self.target_head(features)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.target_head(self.network.features(x))


class Frozen(nn.Module):
    """A copy of ``module`` as it is now: no parameter trains, always in evaluation mode (no dropout,
    batch-norm statistics untouched), run without gradient. A buffer-like part of a method that
    moves with it to its device."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = copy.deepcopy(module).requires_grad_(False).eval()

    def train(self, mode: bool = True) -> "Frozen":
        return super().train(False)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


def distillation(logits: torch.Tensor, recorded: torch.Tensor, temperature: float) -> torch.Tensor:
    """−Σ_c softmax(recorded / T)_c · log softmax(logits / T)_c, the mean over the batch: the
    knowledge-distillation loss of Hinton et al. (2015) as Learning without Forgetting writes it
    (eq. 2), without Hinton's T² factor."""
    return F.cross_entropy(logits.float() / temperature, (recorded.float() / temperature).softmax(1))


class Lateral(nn.Module):
    """A linear map over the channels of a stage's output: a 1 × 1 convolution of a feature map
    (N, C, H, W), a linear layer of features (N, …, C). Zero at the start, so the target column
    begins as if alone and learns how much of the source column to use."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 4:
            return F.conv2d(x, self.weight.to(x.dtype)[:, :, None, None])
        return F.linear(x, self.weight.to(x.dtype))


class Laterals(nn.Module):
    """Lateral connections of a progressive network: ``source`` (frozen) is the first column; at each
    of its stages (``parameter_transfer.stages``) the stage's output, through a trained ``Lateral``,
    is added to the output of the same stage of ``target``, the new column. Forward hooks carry the
    outputs, so any timm model works unchanged; ``forward(x)`` runs both columns and returns the
    target column's logits."""

    def __init__(self, source: nn.Module, target: nn.Module):
        super().__init__()
        self.source = Frozen(source)
        self.target = [target]   # not a submodule: the method's network holds its parameters
        self.stages = stages(target)
        source_modules, target_modules = dict(self.source.module.named_modules()), dict(target.named_modules())
        self.adapters = nn.ModuleList(Lateral(_channels(target, name, target_modules[name])) for name in self.stages)
        self._outputs: dict[int, torch.Tensor] = {}
        for i, name in enumerate(self.stages):
            source_modules[name].register_forward_hook(self._keep(i))
            target_modules[name].register_forward_hook(self._add(i))

    def _keep(self, i: int):
        def hook(module, inputs, output):
            self._outputs[i] = output
        return hook

    def _add(self, i: int):
        def hook(module, inputs, output):
            if i not in self._outputs:
                raise RuntimeError("the target column of a progressive network ran without its source column; "
                                   "call Laterals(x), not the target model alone")
            return output + self.adapters[i](self._outputs[i])
        return hook

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            self.source(x)
            return self.target[0](x)
        finally:
            self._outputs.clear()


def _channels(model: nn.Module, name: str, module: nn.Module) -> int:
    """The channels of a stage's output: timm's ``feature_info``, else the layer's own size."""
    info = getattr(model, "feature_info", None)
    if info:
        return next(entry["num_chs"] for entry in info if entry["module"] == name)
    return module.out_channels if hasattr(module, "out_channels") else module.out_features
