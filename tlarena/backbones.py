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


class WeightsMismatch(WeightsUnavailable):
    """A weights file whose keys or shapes differ from the model's beyond the classifier."""


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
    """Load weights saved from the same architecture: safetensors, or a checkpoint timm can read.

    Only the classifier may be absent or of another shape: a new task keeps its fresh one. Any
    other difference means the file is for another model, and loading the keys that happen to match
    would quietly train from scratch, so it raises ``WeightsMismatch`` (the model is then partly
    loaded: discard it). timm's own ``pretrained_cfg_overlay=dict(file=...)`` is no help here: when
    the class count differs from its pretrained config it loads non-strictly and only logs the rest.
    """
    if not path.is_file():
        raise WeightsUnavailable(f"weights file {str(path)!r} does not exist")
    try:
        state = timm.models.load_state_dict(str(path))
    except Exception as error:
        raise WeightsUnavailable(f"weights file {str(path)!r} could not be read: {error}") from error
    own = model.state_dict()
    reshaped = {k for k in state.keys() & own.keys() if state[k].shape != own[k].shape}
    # torch decides what is missing or unexpected: it knows, e.g., that a BatchNorm may lack
    # num_batches_tracked. It refuses shapes that differ, so those are left out here.
    result = model.load_state_dict({k: v for k, v in state.items() if k not in reshaped}, strict=False)
    head = _classifier_prefixes(model)
    missing = [repr(k) for k in result.missing_keys if k not in reshaped and not k.startswith(head)]
    unexpected = [repr(k) for k in result.unexpected_keys if not k.startswith(head)]
    wrong_shape = [f"{k!r} (file {list(state[k].shape)}, model {list(own[k].shape)})"
                   for k in sorted(reshaped) if not k.startswith(head)]
    differences = [f"{what} {_first(keys)}" for what, keys in
                   (("missing", missing), ("unexpected", unexpected), ("of another shape", wrong_shape))
                   if keys]
    if differences:
        raise WeightsMismatch(f"weights file {str(path)!r} does not match the model (only its "
                              f"classifier may differ): {'; '.join(differences)}")


def _classifier_prefixes(model: nn.Module) -> tuple[str, ...]:
    """Where the classifier's weights live, e.g. ``("fc.",)``: the modules ``get_classifier()`` gives."""
    heads = model.get_classifier()
    heads = heads if isinstance(heads, tuple) else (heads,)  # distilled models have two heads
    return tuple(f"{name}." for name, module in model.named_modules()
                 if any(module is head for head in heads))


def _first(items: list[str], shown: int = 5) -> str:
    """The first few items and how many more: a mismatched file can differ in hundreds of keys."""
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def data_config(model: nn.Module) -> dict:
    """Input size, mean, std and interpolation from the model's pretrained config (timm)."""
    return timm.data.resolve_data_config({}, model=model)


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    params = list(module.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
