"""Builders of the embedded datasets: made from what installed packages ship, no download.

Each returns a ``datasets.DatasetDict`` with ``train`` and ``test`` splits of 32×32 RGB images
(``image``) and class ids (``label``). Fixed seeds make every build identical on one machine.
"""
from __future__ import annotations

import datasets
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from tlarena_plugins.embedded.fonts import glyph_fonts
from tlarena_plugins.embedded.render import FONT_SIZE, SIZE, Style, render_glyph

DIGITS = tuple("0123456789")
LETTERS = tuple("ABCDEFGHIJ")

_UCI_TRAIN_SIZE = 1000
_UCI_SEED = 0
_ROTATION = (25.0, 45.0)  # degrees, either way: well outside the ±12° tilt of the rendered glyphs


def uci_digits() -> datasets.DatasetDict:
    """scikit-learn's 1,797 handwritten 8×8 digits, upsampled; 1,000 train, 797 test, stratified."""
    return _uci(rotate=False)


def uci_digits_rotated() -> datasets.DatasetDict:
    """``uci_digits`` with each image rotated 25°–45° either way; same images, same split."""
    return _uci(rotate=True)


def synth_digits() -> datasets.DatasetDict:
    """Digits in system fonts, light on dark: 3,000 train / 1,000 test."""
    return _rendered(DIGITS, style="plain", train=3000, test=1000, seed=1)


def synth_digits_colour() -> datasets.DatasetDict:
    """Digits in system fonts, coloured over coloured texture: 3,000 train / 1,000 test."""
    return _rendered(DIGITS, style="colour", train=3000, test=1000, seed=2)


def synth_letters() -> datasets.DatasetDict:
    """Letters A–J in system fonts, light on dark: 2,000 train / 1,000 test."""
    return _rendered(LETTERS, style="plain", train=2000, test=1000, seed=3)


# The embedded-domains suite: one base (digits in system fonts), four looks, disjoint draws (a seed
# each), so only the look differs between domains and no image of one is in another.
DOMAIN_LOOKS = {"plain": ("plain", None), "rotated": ("plain", _ROTATION),
                "colour": ("colour", None), "noisy": ("noisy", None)}


def digit_domain(look: str) -> datasets.DatasetDict:
    """Digits in system fonts in one ``DOMAIN_LOOKS`` look: 2,000 train / 1,000 test."""
    style, turn = DOMAIN_LOOKS[look]
    return _rendered(DIGITS, style=style, train=2000, test=1000, seed=10 + list(DOMAIN_LOOKS).index(look),
                     turn=turn)


def _uci(rotate: bool) -> datasets.DatasetDict:
    digits = load_digits()
    ink = np.rint(digits.images * (255 / 16)).astype(np.uint8)  # 0–16 to 0–255
    if rotate:
        rng = np.random.default_rng(_UCI_SEED)
        angles = rng.uniform(*_ROTATION, size=len(ink)) * rng.choice((-1, 1), size=len(ink))
        images = [_rotated(image, angle) for image, angle in zip(ink, angles)]
    else:
        # Bilinear, so the 8×8 blocks blur as a scan would.
        images = [Image.fromarray(image).resize((SIZE, SIZE), Image.BILINEAR) for image in ink]
    arrays = [np.asarray(image.convert("RGB")) for image in images]
    train, test = train_test_split(np.arange(len(arrays)), train_size=_UCI_TRAIN_SIZE,
                                   stratify=digits.target, random_state=_UCI_SEED)
    return datasets.DatasetDict({
        "train": _dataset([arrays[i] for i in train], digits.target[train], DIGITS),
        "test": _dataset([arrays[i] for i in test], digits.target[test], DIGITS),
    })


def _rotated(image: np.ndarray, angle: float) -> Image.Image:
    """An 8×8 digit upsampled, rotated whole, and shrunk only as much as the frame needs.

    The digits touch the frame's top and bottom: rotating the upsampled frame would cut them and
    show the cut as a straight edge. A blank border first lets their ends fade out instead.
    """
    padded = np.pad(image, 1)
    scale = SIZE // image.shape[0]
    large = Image.fromarray(padded).resize((padded.shape[1] * scale, padded.shape[0] * scale),
                                           Image.BILINEAR)
    rotated = large.rotate(angle, resample=Image.BILINEAR, expand=True)
    digit = rotated.crop(rotated.getbbox())
    fit = min(1.0, SIZE / max(digit.size))
    digit = digit.resize((round(digit.width * fit), round(digit.height * fit)), Image.BILINEAR)
    frame = Image.new("L", (SIZE, SIZE))
    frame.paste(digit, ((SIZE - digit.width) // 2, (SIZE - digit.height) // 2))
    return frame


def _rendered(chars: tuple[str, ...], style: Style, train: int, test: int,
              seed: int, turn: tuple[float, float] | None = None) -> datasets.DatasetDict:
    fonts = glyph_fonts("".join(chars), FONT_SIZE)
    splits = {}
    # One generator per split: resizing one split leaves the other's images unchanged.
    for index, (split, size) in enumerate((("train", train), ("test", test))):
        rng = np.random.default_rng([seed, index])
        labels = rng.permutation(np.arange(size) % len(chars))  # balanced to within one image
        images = [render_glyph(chars[label], fonts, rng, style, turn) for label in labels]
        splits[split] = _dataset(images, labels, chars)
    return datasets.DatasetDict(splits)


def _dataset(images: list[np.ndarray], labels: np.ndarray,
             classes: tuple[str, ...]) -> datasets.Dataset:
    features = datasets.Features({"image": datasets.Image(),
                                  "label": datasets.ClassLabel(names=list(classes))})
    return datasets.Dataset.from_dict({"image": images, "label": [int(y) for y in labels]},
                                      features=features)
