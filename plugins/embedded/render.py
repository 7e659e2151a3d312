"""Render one character as a varied 32×32 RGB image, in the style of a digit dataset.

Three styles: ``plain`` is a light glyph on a dark, nearly grey background (like MNIST);
``colour`` is a coloured glyph over a coloured, textured background (like MNIST-M); ``noisy`` is
``plain`` under heavy pixel noise. ``turn`` rotates the glyph further (rotated digits). Everything
random comes from the ``rng`` passed in, so a seed fixes the image.
"""
from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tlarena_plugins.embedded.fonts import Font

Style = Literal["plain", "colour", "noisy"]
SIZE = 32
FONT_SIZE = 48  # drawn large, then shrunk: the glyph keeps smooth edges at 32×32

# Glyph height as a share of the frame: real digits fill most of it (MNIST about 0.7, UCI all).
_HEIGHT = (0.62, 0.92)
_MAX_WIDTH = 30
_MAX_ANGLE = 12.0
_MAX_SHIFT = 3
_STROKES = (0, 0, 1, 2, 3)  # extra outline in pixels at FONT_SIZE; plain weight most often
_LUMA = np.array([0.299, 0.587, 0.114])


def render_glyph(char: str, fonts: Sequence[Font], rng: np.random.Generator,
                 style: Style = "plain", turn: tuple[float, float] | None = None) -> np.ndarray:
    """``char`` drawn in a random one of ``fonts``: a (32, 32, 3) uint8 array. ``turn``: rotate the
    glyph a further (low, high) degrees, either way, before it is placed."""
    mask = _glyph_mask(char, fonts[rng.integers(len(fonts))], rng)
    if turn is not None:   # only then: the images of the other datasets draw nothing more
        angle = rng.uniform(*turn) * rng.choice((-1, 1))
        mask = mask.rotate(angle, resample=Image.BICUBIC, expand=True)
        mask = mask.crop(mask.getbbox())
    ink = _place(mask, rng)
    if style == "plain":
        return _plain(ink, rng)
    if style == "colour":
        return _colour(ink, rng)
    if style == "noisy":
        return _noisy(ink, rng)
    raise ValueError(f"unknown style {style!r}: expected 'plain', 'colour' or 'noisy'")


def _glyph_mask(char: str, font: Font, rng: np.random.Generator) -> Image.Image:
    """The glyph's ink, tilted and cropped to its box, at drawing resolution."""
    canvas = Image.new("L", (2 * FONT_SIZE, 2 * FONT_SIZE))
    stroke = int(rng.choice(_STROKES))
    ImageDraw.Draw(canvas).text((FONT_SIZE, FONT_SIZE), char, fill=255, font=font, anchor="mm",
                                stroke_width=stroke, stroke_fill=255)
    upright = canvas.crop(canvas.getbbox())
    tilted = upright.rotate(rng.uniform(-_MAX_ANGLE, _MAX_ANGLE), resample=Image.BICUBIC,
                            expand=True)
    return tilted.crop(tilted.getbbox())


def _place(glyph: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """Shrink the glyph to a random height and aspect, put it near the centre: ink in [0, 1]."""
    height = rng.uniform(*_HEIGHT) * SIZE
    width = height * glyph.width / glyph.height * rng.uniform(0.85, 1.15)
    fit = min(1.0, _MAX_WIDTH / width)
    w, h = max(1, round(width * fit)), max(1, round(height * fit))
    small = glyph.resize((w, h), resample=Image.LANCZOS)
    frame = Image.new("L", (SIZE, SIZE))
    x = int(np.clip((SIZE - w) // 2 + rng.integers(-_MAX_SHIFT, _MAX_SHIFT + 1), 0, SIZE - w))
    y = int(np.clip((SIZE - h) // 2 + rng.integers(-_MAX_SHIFT, _MAX_SHIFT + 1), 0, SIZE - h))
    frame.paste(small, (x, y))
    frame = frame.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 0.8)))
    return np.asarray(frame, dtype=np.float32)[..., None] / 255.0


def _plain(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light grey on dark grey, each channel nudged a little so it is not exactly grey."""
    background = rng.uniform(0, 50) + rng.uniform(-6, 6, size=3)
    foreground = rng.uniform(170, 255) + rng.uniform(-12, 12, size=3)
    image = background * (1 - ink) + foreground * ink
    return _to_uint8(image + rng.normal(0, rng.uniform(0, 8), size=image.shape))


def _noisy(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``plain``, then strong Gaussian noise and a sprinkle of dead and hot pixels: the digit stays
    legible to a person, the pixel statistics move far from ``plain``'s."""
    image = _plain(ink, rng).astype(np.float32)
    image += rng.normal(0, rng.uniform(35, 60), size=image.shape)
    speckles = rng.random(image.shape[:2]) < rng.uniform(0.03, 0.08)
    image[speckles] = rng.choice((0.0, 255.0), size=(int(speckles.sum()), 1))
    return _to_uint8(image)


def _colour(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A coloured glyph over coloured blotches, its brightness kept far from the background's."""
    background = _texture(rng)
    foreground = _contrasting_colour(float(background.mean(axis=(0, 1)) @ _LUMA), rng)
    image = background * (1 - ink) + foreground * ink
    return _to_uint8(image + rng.normal(0, rng.uniform(2, 10), size=image.shape))


def _texture(rng: np.random.Generator) -> np.ndarray:
    """Smooth random colour blotches around a random base colour: (32, 32, 3) float."""
    cells = int(rng.choice((2, 4, 8)))
    blotches = rng.integers(0, 256, size=(cells, cells, 3), dtype=np.uint8)
    smooth = np.asarray(Image.fromarray(blotches).resize((SIZE, SIZE), Image.BICUBIC), np.float32)
    base = rng.uniform(0, 255, size=3)
    return np.clip(base + (smooth - 127.5) * rng.uniform(0.15, 0.45), 0, 255)


def _contrasting_colour(background_luma: float, rng: np.random.Generator) -> np.ndarray:
    """A random colour whose brightness is at least 90 levels from the background's."""
    if background_luma < 128:
        luma = rng.uniform(min(background_luma + 90, 255), 255)
    else:
        luma = rng.uniform(0, max(background_luma - 90, 0))
    colour = rng.uniform(0, 255, size=3)
    return np.clip(colour + luma - colour @ _LUMA, 0, 255)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
