"""Parameter transfer from the source model, written once and public for any plugin to import.

Which of a network's parameters train (``train_only``, ``bias_parameters``, ``last_stages``), a
penalty that keeps weights near where they started (``StartingPoint``), and features taken from a
network kept in evaluation mode (``frozen_features``). The methods in ``tlarena_plugins.methods``
cite the papers.
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from tlarena.methods import Network

_STAGE_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def train_only(network: nn.Module, parameters: Iterable[nn.Parameter]) -> list[nn.Parameter]:
    """Freeze every parameter of ``network`` but ``parameters``; return those that still train."""
    keep = {id(p) for p in parameters}
    for parameter in network.parameters():
        parameter.requires_grad_(id(parameter) in keep)
    return [p for p in network.parameters() if p.requires_grad]


def bias_parameters(network: Network) -> list[nn.Parameter]:
    """The additive terms of every layer — biases and normalization shifts (named ``bias``) — and
    the whole classification head."""
    head = list(network.head.parameters())
    known = {id(p) for p in head}
    biases = [p for name, p in network.model.named_parameters() if name.endswith("bias") and id(p) not in known]
    return biases + head


def stages(model: nn.Module) -> list[str]:
    """The names of the model's stages, input side first: timm's ``feature_info`` modules where the
    model declares them, otherwise each convolution or linear layer (LeNet: conv1, conv2, fc)."""
    info = getattr(model, "feature_info", None)
    if info:
        named = dict(model.named_modules())
        return [entry["module"] for entry in info if any(True for _ in named[entry["module"]].parameters())]
    head = {id(m) for m in model.get_classifier().modules()}
    return [name for name, module in model.named_modules()
            if isinstance(module, _STAGE_LAYERS) and id(module) not in head]


def last_stages(network: Network, k: int) -> list[nn.Parameter]:
    """Parameters of the last ``k`` stages, of everything registered after them (final norm, neck)
    and of the head: the part partial fine-tuning trains. ``k`` = 0 is the head alone; ``k`` ≥ the
    number of stages is the whole network."""
    head = list(network.head.parameters())
    names = stages(network.model)
    if k <= 0:
        return head
    if k >= len(names):
        return list(network.model.parameters())
    start = id(next(dict(network.model.named_modules())[names[-k]].parameters()))
    ordered = list(network.model.parameters())
    index = next(i for i, p in enumerate(ordered) if id(p) == start)
    chosen = {id(p) for p in ordered[index:]}
    return ordered[index:] + [p for p in head if id(p) not in chosen]


class StartingPoint(nn.Module):
    """Σ ||w − w⁰||² over parameters, w⁰ their values when this was made (held as buffers, so they
    move with the method to its device and never train)."""

    def __init__(self, parameters: dict[str, nn.Parameter]):
        super().__init__()
        self.parameters_ = parameters
        self.names = {name: f"w0_{i}" for i, name in enumerate(parameters)}
        for name, parameter in parameters.items():
            self.register_buffer(self.names[name], parameter.detach().clone())

    def forward(self) -> torch.Tensor:
        return sum(((p - getattr(self, self.names[name])) ** 2).sum() for name, p in self.parameters_.items())


@torch.no_grad()
def frozen_features(network: Network, images: torch.Tensor) -> torch.Tensor:
    """The features of ``images`` with the network in evaluation mode (no dropout, batch-norm
    statistics untouched) and no gradient; the mode it had is given back."""
    mode = network.training
    network.eval()
    try:
        return network.features(images)
    finally:
        network.train(mode)
