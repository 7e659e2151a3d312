"""Train-time augmentation on uint8 batches, on the batch's device.

Augmentations are registered by plugins (``register_augmentations``) under a name; a pair names the
one its training streams get (``none``: digits, since a flipped 2 is no digit) and a method names
those of its views. The core keeps ``flip_crop``, the protocol's augmentation for object photos: a
random crop of the image padded by 1/8 of its size, and a random horizontal flip; ``translate`` is
the same crop without the flip.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def flip_crop(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return _shift(images, generator, flips=True)


def translate(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``flip_crop`` without the flip: for images a mirror changes the label of (digits)."""
    return _shift(images, generator, flips=False)


def _shift(images: torch.Tensor, generator: torch.Generator, flips: bool) -> torch.Tensor:
    n, channels, height, width = images.shape
    pad = max(1, height // 8)
    padded = F.pad(images.float(), (pad, pad, pad, pad), mode="replicate")
    top = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(images.device)
    left = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(images.device)
    rows = (top[:, None] + torch.arange(height, device=images.device))[:, None, :, None]
    cols = left[:, None] + torch.arange(width, device=images.device)
    if flips:
        flip = torch.rand(n, generator=generator).to(images.device) < 0.5
        cols = torch.where(flip[:, None], cols.flip(1), cols)
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    channel = torch.arange(channels, device=images.device)[None, :, None, None]
    return padded[batch, channel, rows, cols[:, None, None, :]].to(images.dtype)


NONE = "none"   # the name of no augmentation: the images as they are


@dataclass(frozen=True)
class Augmentation:
    """A named augmentation: ``apply(uint8 images (N, C, H, W), generator) -> uint8 images``, on the
    images' device; its randomness comes from ``generator`` so a seeded stream repeats itself."""

    name: str
    apply: Augment
    description: str = ""
