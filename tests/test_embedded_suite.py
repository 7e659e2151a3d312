"""The embedded suite: what each builder makes, and that its pairs are real but learnable shifts."""
from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pytest
from PIL import Image, ImageFont
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import tlarena
from tlarena_plugins import embedded
from tlarena_plugins.embedded.fonts import font_files, glyph_fonts
from tlarena_plugins.embedded.render import FONT_SIZE, render_glyph

SOURCES = {source.name: source for source in (
    embedded.UCI_DIGITS, embedded.UCI_DIGITS_ROTATED, embedded.SYNTH_DIGITS,
    embedded.SYNTH_DIGITS_COLOUR, embedded.SYNTH_LETTERS)}
SIZES = {
    "uci-digits": {"train": 1000, "test": 797},
    "uci-digits-rotated": {"train": 1000, "test": 797},
    "synth-digits": {"train": 3000, "test": 1000},
    "synth-digits-colour": {"train": 3000, "test": 1000},
    "synth-letters": {"train": 2000, "test": 1000},
}


@pytest.fixture(scope="module")
def built() -> dict[str, datasets.DatasetDict]:
    """Each dataset built once for the whole module: building is the slow part."""
    return {name: source.build() for name, source in SOURCES.items()}


def _pixels(split: datasets.Dataset, count: int | None = None) -> np.ndarray:
    images = split["image"] if count is None else split.select(range(count))["image"]
    return np.stack([np.asarray(image) for image in images])


def _ink_features(split: datasets.Dataset) -> np.ndarray:
    """Ink cropped to its box and pooled to 8×8, much as the UCI digits themselves were made.

    Ink is how far a pixel's brightness is from the image's median (its background), so one linear
    model reads light-on-dark and dark-on-light alike; the crop takes out size and position.
    """
    luma = _pixels(split).astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    ink = np.abs(luma - np.median(luma, axis=(1, 2), keepdims=True))
    return np.stack([_boxed(image) for image in ink])


def _boxed(ink: np.ndarray, side: int = 8) -> np.ndarray:
    rows, cols = np.nonzero(ink > 0.4 * ink.max())
    crop = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    square = np.zeros((max(crop.shape),) * 2, np.float32)
    top, left = (len(square) - crop.shape[0]) // 2, (len(square) - crop.shape[1]) // 2
    square[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
    pooled = np.asarray(Image.fromarray(square).resize((side, side), Image.BOX)).ravel()
    return pooled / pooled.max()


def _fit(split: datasets.Dataset) -> Pipeline:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    return model.fit(_ink_features(split), split["label"])


def _accuracy(model: Pipeline, split: datasets.Dataset) -> float:
    return model.score(_ink_features(split), split["label"])


def test_the_plugin_registers_five_pairs_of_the_embedded_suite():
    registered: list[tlarena.DomainPair] = []

    embedded.register_pairs(register=registered.append)

    assert {pair.name: pair.shared_label_space for pair in registered} == {
        "synth-digits->uci-digits": True,
        "uci-digits->synth-digits": True,
        "uci-digits->uci-digits-rotated": True,
        "synth-digits->synth-digits-colour": True,
        "uci-digits->synth-letters": False,
    }
    assert {pair.suite for pair in registered} == {"embedded"}


@pytest.mark.parametrize("name", SIZES)
def test_builder_gives_train_and_test_with_image_and_label_columns(built, name):
    dataset = built[name]

    assert {split: len(rows) for split, rows in dataset.items()} == SIZES[name]
    assert dataset["train"].features == datasets.Features({
        "image": datasets.Image(),
        "label": datasets.ClassLabel(names=list(SOURCES[name].classes)),
    })


@pytest.mark.parametrize("name", SIZES)
def test_classes_are_balanced(built, name):
    counts = np.bincount(built[name]["train"]["label"], minlength=10)

    assert counts.max() <= 1.2 * counts.min()


@pytest.mark.parametrize("name", SIZES)
def test_images_are_32x32_rgb_and_not_blank(built, name):
    pixels = _pixels(built[name]["test"], count=50)

    assert pixels.shape == (50, 32, 32, 3)
    assert pixels.reshape(50, -1).std(axis=1).min() > 20


@pytest.mark.parametrize("name", ["uci-digits-rotated", "synth-letters"])
def test_a_rebuild_gives_the_same_bytes(built, name):
    again = SOURCES[name].build()

    assert np.array_equal(_pixels(again["train"], count=5), _pixels(built[name]["train"], count=5))


@pytest.mark.parametrize("style", ["plain", "colour"])
def test_a_seed_fixes_the_rendered_glyph(style):
    fonts = glyph_fonts("0123456789", FONT_SIZE)

    first = render_glyph("7", fonts, np.random.default_rng(42), style)
    second = render_glyph("7", fonts, np.random.default_rng(42), style)

    assert first.tobytes() == second.tobytes()


def test_rotated_digits_are_the_same_digits_turned(built):
    original, rotated = built["uci-digits"]["test"], built["uci-digits-rotated"]["test"]

    assert original["label"] == rotated["label"]
    difference = np.abs(_pixels(original, 50).astype(int) - _pixels(rotated, 50))
    assert difference.mean(axis=(1, 2, 3)).min() > 10


def test_without_usable_system_fonts_glyphs_come_from_pillows_own_font(tmp_path: Path):
    (tmp_path / "Broken.ttf").write_bytes(b"not a font")
    (tmp_path / "Wingdings.ttf").write_bytes(b"pictures, not letters")

    fonts = glyph_fonts("0123456789", FONT_SIZE, dirs=(tmp_path,))

    assert font_files((tmp_path,)) == [tmp_path / "Broken.ttf"]  # picture fonts never count
    assert [font.getname() for font in fonts] == [ImageFont.load_default(FONT_SIZE).getname()]
    assert render_glyph("3", fonts, np.random.default_rng(0)).std() > 20


@pytest.mark.parametrize("name", SIZES)
def test_each_dataset_is_learnable_from_its_own_train_split(built, name):
    model = _fit(built[name]["train"])

    assert _accuracy(model, built[name]["test"]) > 0.7


def test_printed_digits_teach_handwritten_ones_well_above_chance(built):
    model = _fit(built["synth-digits"]["train"])

    assert _accuracy(model, built["uci-digits"]["test"]) > 0.3
