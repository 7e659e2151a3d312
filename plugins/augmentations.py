"""Built-in augmentations, registered through the `tlarena` entry-point group like any plugin.

- ``flip-crop``: the protocol's augmentation for object photos (``tlarena.data.augment.flip_crop``).
- ``weak`` and ``strong``: FixMatch's pair of views (Sohn et al., "FixMatch: Simplifying
  Semi-Supervised Learning with Consistency and Confidence", NeurIPS 2020). Weak is a translation by
  up to 12.5 % (``translate``); strong is weak followed by RandAugment (two random operations,
  torchvision.transforms.v2) and Cutout (a random square erased, ``RandomErasing``).
  Deviations: no horizontal flip in either view, on any pair. The paper flips on every dataset
  but SVHN, as a mirrored digit is another digit or none; a view does not know its pair, so tlarena
  keeps the SVHN protocol everywhere (with the flip, FixMatch on the embedded digit pairs fell below
  its source model). RandAugment uses torchvision's fixed magnitude 9 instead of a magnitude drawn
  per image, and Cutout erases a square of 1/4 to 1/2 of the side.
"""
from __future__ import annotations

import torch
from torchvision.transforms import v2

import tlarena
from tlarena.data.augment import flip_crop, translate

_STRONG = v2.Compose([v2.RandAugment(num_ops=2, magnitude=9),
                      v2.RandomErasing(p=1.0, scale=(1 / 16, 1 / 4), ratio=(1.0, 1.0), value=127)])


def strong(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Weak, then RandAugment and Cutout drawn per image. torchvision draws from torch's global
    generator, so it runs in a forked generator state seeded from the stream's: a seeded stream
    gives the same views, and the caller's random state is left as it was."""
    images = translate(images, generator)
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.stack([_STRONG(image) for image in images])


@tlarena.hookimpl
def register_augmentations(register) -> None:
    register(tlarena.Augmentation("flip-crop", flip_crop, "random crop of the 1/8-padded image, random flip"))
    register(tlarena.Augmentation("weak", translate, "FixMatch's weak view: translate (no flip)"))
    register(tlarena.Augmentation("strong", strong, "FixMatch's strong view: weak, RandAugment, Cutout"))
