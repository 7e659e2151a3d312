"""The digit backbones of the domain-adaptation literature, LeNet and DTN, as timm models.

Importing this module registers ``lenet`` and ``dtn`` in timm's registry, so ``timm.create_model``
builds them like any other timm model; the ``register_backbones`` hook offers them to tlarena.
Neither has pretrained weights: the digits benchmarks train them from scratch.
"""
from __future__ import annotations

from typing import Callable

import timm
import torch
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model
from torch import nn

import tlarena

__all__ = ["DTN", "LeNet", "dtn", "lenet", "register_backbones"]  # timm would otherwise write one

_SIZE = 32  # every digit domain is resized to 32×32; the fully connected layers assume it


class _DigitClassifier(nn.Module):
    """timm's classifier interface over a conv trunk, a fully connected neck and a linear head.

    ``forward_features`` gives the trunk's feature map; ``forward_head`` flattens it through the
    neck into the ``num_features``-dim vector that transfer methods align (``pre_logits=True``),
    then classifies it. ``num_classes=0`` leaves no head, as in timm.
    """

    def __init__(self, trunk: nn.Sequential, neck: nn.Sequential, num_features: int, num_classes: int):
        super().__init__()
        self.features = trunk
        self.neck = neck
        self.num_features = self.head_hidden_size = num_features
        self.reset_classifier(num_classes)

    def get_classifier(self) -> nn.Module:
        return self.head

    def reset_classifier(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.head = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.neck(x)
        return x if pre_logits else self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class LeNet(_DigitClassifier):
    """LeNet as the digits domain-adaptation papers use it.

    Papers: LeCun et al., "Gradient-Based Learning Applied to Document Recognition", Proc. IEEE 1998;
    this 20-50-500 variant is the one of Tzeng et al., "Adversarial Discriminative Domain
    Adaptation", CVPR 2017 (ADDA), and of TLlib's digits ``LeNet``.

    conv 5×5 20 → max-pool 2 → ReLU → conv 5×5 50 → dropout 0.5 → max-pool 2 → ReLU,
    then flatten → fc 500 → ReLU → dropout 0.5 → classifier.

    Deviation: it takes 3×32×32 images (TLlib: 1×28×28) so that every digit domain, RGB SVHN
    included, shares one input; the fc layer therefore sees 50·5·5 = 1250 inputs, not 800.
    """

    def __init__(self, num_classes: int = 10, in_chans: int = 3):
        side = ((_SIZE - 4) // 2 - 4) // 2   # two unpadded 5×5 convs, each followed by a 2×2 pool
        trunk = nn.Sequential(
            nn.Conv2d(in_chans, 20, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(20, 50, kernel_size=5), nn.Dropout2d(0.5), nn.MaxPool2d(2), nn.ReLU(),
        )
        neck = nn.Sequential(
            nn.Flatten(), nn.Linear(50 * side * side, 500), nn.ReLU(), nn.Dropout(0.5),
        )
        super().__init__(trunk, neck, num_features=500, num_classes=num_classes)


class DTN(_DigitClassifier):
    """The DTN digit network, as CDAN and TLlib use it for SVHN → MNIST.

    Papers: Taigman et al., "Unsupervised Cross-Domain Image Generation", ICLR 2017 (the encoder);
    Long et al., "Conditional Adversarial Domain Adaptation", NeurIPS 2018 (CDAN, this form of it).

    3 × [conv 5×5 stride 2 (64, 128, 256) → batch norm → dropout (0.1, 0.3, 0.5) → ReLU],
    then flatten → fc 512 → batch norm → ReLU → dropout 0.5 → classifier.

    Deviation: none from the CDAN and TLlib code, whose layers and dropout rates these are; we follow
    that code, not the DTN paper's own description of its encoder.
    """

    def __init__(self, num_classes: int = 10, in_chans: int = 3):
        layers: list[nn.Module] = []
        for inputs, outputs, drop in ((in_chans, 64, 0.1), (64, 128, 0.3), (128, 256, 0.5)):
            layers += [nn.Conv2d(inputs, outputs, kernel_size=5, stride=2, padding=2),
                       nn.BatchNorm2d(outputs), nn.Dropout2d(drop), nn.ReLU()]
        side = _SIZE // 8   # three stride-2 convs
        neck = nn.Sequential(
            nn.Flatten(), nn.Linear(256 * side * side, 512), nn.BatchNorm1d(512), nn.ReLU(),
            nn.Dropout(0.5),
        )
        super().__init__(nn.Sequential(*layers), neck, num_features=512, num_classes=num_classes)


def _digit_cfg(paper_name: str, paper_ids: str) -> dict:
    # No url, file or hub id: timm then knows there are no weights and refuses pretrained=True.
    # crop_pct 1.0 because a digit fills its image: a centre crop would cut strokes off.
    return dict(
        input_size=(3, _SIZE, _SIZE), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
        interpolation="bilinear", crop_pct=1.0, num_classes=10,
        first_conv="features.0", classifier="head", paper_name=paper_name, paper_ids=paper_ids,
    )


# timm's register_model reads the pretrained configs from a module attribute of this exact name.
default_cfgs = generate_default_cfgs({
    "lenet": _digit_cfg("Adversarial Discriminative Domain Adaptation", "arXiv:1702.05464"),
    "dtn": _digit_cfg("Unsupervised Cross-Domain Image Generation", "arXiv:1611.02200"),
})


def _register_once(entrypoint: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """timm's ``register_model``, once per process.

    Importing this file again (a reload, or under a second module name) keeps the first registration
    instead of making timm warn that it overwrites one; another model of the same name is an error,
    since replacing it would silently change what that name builds.
    """
    name = entrypoint.__name__
    if not timm.models.is_model(name):
        return register_model(entrypoint)
    existing = timm.models.model_entrypoint(name)
    if existing.__code__.co_filename != entrypoint.__code__.co_filename:
        raise RuntimeError(f"timm already has a model named {name!r} (from {existing.__module__}); "
                           f"the digit backbones plugin will not replace it")
    return entrypoint


def _create(model_cls: type[_DigitClassifier], variant: str, pretrained: bool,
            in_chans: int = 3, pretrained_cfg_overlay: dict | None = None, **kwargs) -> nn.Module:
    # The data config must describe the input the model takes: a grayscale model asks for 1 channel.
    overlay = {"input_size": (in_chans, _SIZE, _SIZE),
               "mean": (0.5,) * in_chans, "std": (0.5,) * in_chans}
    overlay.update(pretrained_cfg_overlay or {})
    return build_model_with_cfg(model_cls, variant, pretrained, pretrained_cfg_overlay=overlay,
                                in_chans=in_chans, **kwargs)


@_register_once
def lenet(pretrained: bool = False, **kwargs) -> LeNet:
    """LeNet (ADDA / TLlib digits) for 32×32 digits; random weights only."""
    return _create(LeNet, "lenet", pretrained, **kwargs)


@_register_once
def dtn(pretrained: bool = False, **kwargs) -> DTN:
    """DTN (Taigman et al. 2017, as in CDAN) for 32×32 digits; random weights only."""
    return _create(DTN, "dtn", pretrained, **kwargs)


@tlarena.hookimpl
def register_backbones(register: Callable[[tlarena.Backbone], None]) -> None:
    register(tlarena.Backbone(
        name="lenet", model="lenet", weights="none",
        description="LeNet of the digits DA papers (ADDA, TLlib): 2 convs + fc 500, from scratch",
    ))
    register(tlarena.Backbone(
        name="dtn", model="dtn", weights="none",
        description="DTN digit network (Taigman et al. 2017, as in CDAN): 3 convs + fc 512, "
                    "from scratch",
    ))
    # torchvision's ImageNet-1k weights: what the object-recognition DA papers (DANN, CDAN, MCC)
    # fine-tune; timm serves them under the .tv_in1k tag, at 224 px.
    register(tlarena.Backbone(
        name="resnet50-imagenet", model="resnet50.tv_in1k", weights="hub",
        description="ResNet-50, torchvision's ImageNet-1k weights (Office-31, Office-Home, DomainNet, "
                    "PACS, VLCS in the DA and DG literature), 224 px",
    ))
    register(tlarena.Backbone(
        name="resnet101-imagenet", model="resnet101.tv_in1k", weights="hub",
        description="ResNet-101, torchvision's ImageNet-1k weights (VisDA-2017 in CDAN, MCC, SHOT), 224 px",
    ))
