"""Methods whose hyperparameters cannot go into a record as they are (a numpy float, a rate given
as text, a list) or whose search space cannot be drawn from (log from 0, no choices, a
hyperparameter the method lacks)."""
import numpy as np
import torch.nn.functional as F

import tlarena
from tlarena import Setting


class _FineTune(tlarena.TransferMethod):
    """Fine-tuning, for the registration checks. Paper: none (a test fixture)."""

    family = "parameter transfer"
    paper = "none (a test fixture)"
    settings = frozenset({Setting.SUPERVISED})

    def training_step(self, batch: tlarena.Batch):
        images, labels = batch.target
        return F.cross_entropy(self.network(images), labels)


class NumpyRate(_FineTune):
    name = "numpy-rate"
    hparams = {"lr": np.float32(0.01), "weight_decay": 5e-4}


class TextRate(_FineTune):
    name = "text-rate"
    hparams = {"lr": "0.01", "weight_decay": 5e-4}


class ListWidths(_FineTune):
    name = "list-widths"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "widths": [64, 32]}


class LogFromZero(_FineTune):
    name = "log-from-zero"
    hparams = {"lr": 0.01, "weight_decay": 5e-4}
    search_space = {"lr": ("log", 0, 0.1)}


class NoChoices(_FineTune):
    name = "no-choices"
    hparams = {"lr": 0.01, "weight_decay": 5e-4}
    search_space = {"lr": []}


class DrawsWhatItLacks(_FineTune):
    name = "draws-what-it-lacks"
    hparams = {"lr": 0.01, "weight_decay": 5e-4}
    search_space = {"beta": ("uniform", 0.1, 0.9)}


@tlarena.hookimpl
def register_methods(register):
    for method in (NumpyRate, TextRate, ListWidths, LogFromZero, NoChoices, DrawsWhatItLacks):
        register(method)
