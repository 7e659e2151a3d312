"""Backbones: a timm model name plus where its weights come from (hub, file:PATH, none)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import timm
from torch import nn


@dataclass(frozen=True)
class Backbone:
    """A named backbone. ``model`` is a timm model name (registered in timm's registry)."""

    name: str
    model: str
    weights: str = "none"          # "hub" | "none" | "file:PATH"
    description: str = ""


class WeightsUnavailable(RuntimeError):
    """Pretrained weights could not be had; the message says what to do instead."""


def parse_weights(text: str) -> str:
    if text in ("hub", "none") or (text.startswith("file:") and len(text) > 5):
        return text
    raise ValueError(f"weights must be 'hub', 'none' or 'file:PATH', not {text!r}")


def create_model(model_name: str, num_classes: int, weights: str = "none") -> nn.Module:
    """A timm classifier with ``num_classes`` outputs and the requested weights."""
    if weights == "hub":
        try:
            return timm.create_model(model_name, pretrained=True, num_classes=num_classes)
        except Exception as error:  # timm raises many kinds when the hub is unreachable
            raise WeightsUnavailable(
                f"could not load pretrained weights for {model_name!r} from the hub ({error}). "
                f"If the hub is out of reach, download the safetensors file where it is not and "
                f"pass --weights file:PATH; if the model has no pretrained weights, use --weights none"
            ) from error
    model = timm.create_model(model_name, pretrained=False, num_classes=num_classes)
    if weights.startswith("file:"):
        load_weights_file(model, Path(weights[5:]))
    return model


def load_weights_file(model: nn.Module, path: Path) -> None:
    """Load a safetensors state dict; the classifier is skipped when its shape differs (new task)."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise WeightsUnavailable(f"weights file {str(path)!r} does not exist")
    state = load_file(str(path))
    own = model.state_dict()
    kept = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(kept, strict=False)


def data_config(model: nn.Module) -> dict:
    """Input size, mean, std and interpolation from the model's pretrained config (timm)."""
    return timm.data.resolve_data_config({}, model=model)


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    params = list(module.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
