"""Train-time augmentation on uint8 batches, on the batch's device (no per-image Python work).

A pair names its augmentation; digits get none (a flipped 2 is no digit), object photos get
``flip-crop``: a random crop of the image padded by 1/8 of its size, and a random horizontal flip.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def flip_crop(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n, channels, height, width = images.shape
    pad = max(1, height // 8)
    padded = F.pad(images.float(), (pad, pad, pad, pad), mode="replicate")
    top = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(images.device)
    left = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(images.device)
    flip = torch.rand(n, generator=generator).to(images.device) < 0.5
    rows = (top[:, None] + torch.arange(height, device=images.device))[:, None, :, None]
    cols = left[:, None] + torch.arange(width, device=images.device)
    cols = torch.where(flip[:, None], cols.flip(1), cols)[:, None, None, :]
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    channel = torch.arange(channels, device=images.device)[None, :, None, None]
    return padded[batch, channel, rows, cols].to(images.dtype)


AUGMENTATIONS: dict[str, Augment | None] = {"none": None, "flip-crop": flip_crop}
