"""Tiny stand-ins for hub datasets, written at test time in the hub's exact schema.

``HUB_FEATURES`` restates each dataset card's columns and feature types (the long class lists of
Office-Home and DomainNet are taken from the suite modules, which copied them from the cards).
``write_hub_copy`` writes rows in that schema under a data dir, as a ``save_to_disk`` DatasetDict or
as parquet files named the way hub repos name them; row ``i`` of a split gets an image whose pixels
all equal ``i % 256``, so a test can tell which rows came through. ``offline`` keeps a test off the
network and off the environment's data dir.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import datasets
import numpy as np
from PIL import Image

DIGITS = [str(d) for d in range(10)]
CIFAR = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
STL = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]
FASHION = ["T - shirt / top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _features(**columns) -> datasets.Features:
    return datasets.Features(columns)


def _label(names) -> datasets.ClassLabel:
    return datasets.ClassLabel(names=list(names))


def _domainnet_classes() -> list[str]:
    from tlarena_plugins.suites.domainnet import CLASSES  # 345 names; only the count matters here
    return list(CLASSES)


def _office_home_classes() -> list[str]:
    from tlarena_plugins.suites.office_home import CLASSES
    return list(CLASSES)


# From the dataset cards (README ``dataset_info``) at the pinned revisions.
HUB_FEATURES = {
    "ylecun/mnist": lambda: _features(image=datasets.Image(), label=_label(DIGITS)),
    "flwrlabs/usps": lambda: _features(image=datasets.Image(), label=_label(DIGITS)),
    "ufldl-stanford/svhn": lambda: _features(image=datasets.Image(), label=_label(DIGITS)),
    "Mike0307/MNIST-M": lambda: _features(image=datasets.Image(), label=_label(DIGITS)),
    "zalando-datasets/fashion_mnist": lambda: _features(image=datasets.Image(), label=_label(FASHION)),
    "uoft-cs/cifar10": lambda: _features(img=datasets.Image(), label=_label(CIFAR)),
    "tanganke/stl10": lambda: _features(image=datasets.Image(), label=_label(STL)),
    "flwrlabs/office-home": lambda: _features(image=datasets.Image(), domain=datasets.Value("string"),
                                              label=_label(_office_home_classes())),
    "flwrlabs/pacs": lambda: _features(
        image=datasets.Image(), domain=datasets.Value("string"),
        label=_label(["dog", "elephant", "giraffe", "guitar", "horse", "house", "person"])),
    "wltjr1007/DomainNet": lambda: _features(
        image=datasets.Image(), domain=datasets.Value("string"), category=datasets.Value("string"),
        y=_label(_domainnet_classes())),
}


def pixels(row: int, size: int = 4, mode: str = "L") -> Image.Image:
    """The fixture image of row ``row``: every pixel is ``row % 256``."""
    shape = (size, size) if mode == "L" else (size, size, 3)
    return Image.fromarray(np.full(shape, row % 256, dtype=np.uint8))


def write_hub_copy(data_dir: Path, hub_id: str, splits: Mapping[str, Mapping[str, Sequence]], *,
                   config: str | None = None, form: str = "save_to_disk",
                   features: datasets.Features | None = None) -> Path:
    """Write ``splits`` (split → the non-image columns) as the local copy of ``hub_id``.

    ``form`` is ``save_to_disk``, ``parquet`` (``data/<split>-00000-of-00001.parquet``, as in most
    hub repos) or ``parquet-flat`` (``<split>-00000-of-00001.parquet`` directly in the folder, as in
    a config folder of a hub repo). ``features`` replaces the schema of ``HUB_FEATURES``.
    """
    features = features or HUB_FEATURES[hub_id]()
    image_column = next(name for name, f in features.items() if isinstance(f, datasets.Image))
    owner, name = hub_id.split("/")
    folder = Path(data_dir) / f"{owner}__{name}" / (config or "")
    built = {}
    for split, columns in splits.items():
        rows = len(next(iter(columns.values())))
        built[split] = datasets.Dataset.from_dict(
            {image_column: [pixels(i) for i in range(rows)], **{k: list(v) for k, v in columns.items()}},
            features=features)
    if form == "save_to_disk":
        datasets.DatasetDict(built).save_to_disk(str(folder))
    elif form in ("parquet", "parquet-flat"):
        target = folder / "data" if form == "parquet" else folder
        target.mkdir(parents=True, exist_ok=True)
        for split, dataset in built.items():
            dataset.to_parquet(str(target / f"{split}-00000-of-00001.parquet"))
    else:
        raise ValueError(form)
    return folder


def write_image_folders(root: Path, counts: Mapping[str, int], suffix: str = ".png") -> Path:
    """``{"amazon/images/mug": 2}`` → two images under ``root/amazon/images/mug/``."""
    for relative, count in counts.items():
        folder = Path(root) / relative
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels(i, mode="RGB").save(folder / f"{i:04d}{suffix}")
    return Path(root)
