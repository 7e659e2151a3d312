"""Pairs whose built target is not what BuiltDataset promises: the builder raises, a test label lies
outside the classes, or the test split is empty. Their source is sound."""
import datasets
import numpy as np
from sklearn.datasets import load_digits

import tlarena

DIGITS = tuple(str(d) for d in range(10))


def _digits(test_labels=lambda y: y, test_rows=None) -> datasets.DatasetDict:
    bunch = load_digits()
    images, labels = (bunch.images / 16 * 255).astype(np.uint8), bunch.target
    features = datasets.Features({"image": datasets.Image(), "label": datasets.Value("int64")})

    def split(rows, relabel=lambda y: y):
        return datasets.Dataset.from_dict({"image": list(images[rows]), "label": [relabel(int(y)) for y in labels[rows]]},
                                          features=features)

    test = np.arange(1200, len(images))[:test_rows]
    return datasets.DatasetDict({"train": split(np.arange(1200)), "test": split(test, test_labels)})


def _explode():
    raise RuntimeError("the builder exploded on purpose")


SOUND = tlarena.BuiltDataset("broken-builders-sound", _digits, DIGITS)
TARGETS = {
    "raises": _explode,
    "test-labels-shifted": lambda: _digits(test_labels=lambda y: y + 3),   # 10, 11, 12: no class of 10
    "empty-test": lambda: _digits(test_rows=0),
}


@tlarena.hookimpl
def register_pairs(register):
    for name, build in TARGETS.items():
        register(tlarena.DomainPair(SOUND, tlarena.BuiltDataset(f"broken-builders-{name}", build, DIGITS),
                                    suite="broken-builders"))
