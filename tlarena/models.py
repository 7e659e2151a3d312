"""Model construction: which backbone, which input, which weights and which head a method starts from."""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch

from tlarena.backbones import Backbone, create_model, data_config
from tlarena.data import ImageSpec
from tlarena.methods import Network, TransferMethod
from tlarena.pairs import DomainPair
from tlarena.plugins import Arena
from tlarena.trainer import Normalizer


class MethodConstructorError(RuntimeError):
    """A method's ``__init__`` raised: the reason names the method and the constructor."""


def resolve_backbone(arena: Arena, name: str, weights: str | None) -> Backbone:
    """A registered backbone, or any timm model by name."""
    base = arena.backbones.get(name) if name in arena.backbones else Backbone(name, name)
    return Backbone(base.name, base.model, weights or base.weights, base.description)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass(frozen=True)
class Preprocessing:
    """What the backbone's timm data config asks of the images: their size and their normalization."""

    image: ImageSpec
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def of(cls, backbone: Backbone, classes: int) -> "Preprocessing":
        config = data_config(create_model(backbone.model, classes))
        channels, height, width = config["input_size"]
        return cls(ImageSpec(channels, height, width, config.get("interpolation", "bilinear")),
                   tuple(config["mean"]), tuple(config["std"]))

    def normalizer(self, device: torch.device) -> Normalizer:
        return Normalizer(self.mean, self.std, device)


def build_method(method_cls: type[TransferMethod], pair: DomainPair, backbone: Backbone, seed: int,
                 hparams: dict, source_state: dict | None) -> TransferMethod:
    """The method on its starting network: the source model (its head replaced by a fresh one for
    a new label space, unless the method keeps it), the backbone's weights, or random weights."""
    source_classes, target_classes = tuple(pair.source.classes), len(pair.target.classes)
    seed_everything(seed)
    if method_cls.init == "source":
        model = create_model(backbone.model, len(source_classes))
        model.load_state_dict(source_state)
        keeps_head = pair.shared_label_space or method_cls.keeps_source_head
        if not keeps_head:
            model.reset_classifier(target_classes)
        network = Network(model, source_classes if keeps_head else None)
    else:
        weights = "none" if method_cls.init == "random" else backbone.weights
        network = Network(create_model(backbone.model, target_classes, weights))
    try:
        return method_cls(network, target_classes, dict(hparams))
    except Exception as error:
        raise MethodConstructorError(f"the constructor of method {method_cls.name!r} "
                                     f"({method_cls.__name__}.__init__) raised "
                                     f"{type(error).__name__}: {error}") from error
