"""An example tlarena plugin package: two transfer methods and a domain pair, public API only."""
import datasets
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

import tlarena
from tlarena import Setting

DIGITS = tuple(str(d) for d in range(10))


class LabelSmoothingFineTune(tlarena.TransferMethod):
    """Fine-tuning with label-smoothed cross-entropy.

    Paper: Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016
    (label smoothing regularization, eq. in section 7), applied to fine-tuning the source model.
    """

    name = "label-smoothing-fine-tune"
    family = "parameter transfer"
    paper = "Szegedy et al., 'Rethinking the Inception Architecture for Computer Vision', CVPR 2016"
    settings = frozenset({Setting.FEW_SHOT, Setting.SUPERVISED, Setting.TASK})
    init = "source"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "smoothing": 0.1}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.target
        return F.cross_entropy(self.network(images), labels, label_smoothing=self.hp["smoothing"])


class DeepCORAL(tlarena.TransferMethod):
    """Deep CORAL: labeled source and unlabeled target, their feature covariances aligned.

    Paper: Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation", ECCV 2016
    workshops. L = CE(source) + λ ‖C_s − C_t‖²_F / (4 d²), C the covariance of the d-dimensional
    features of each domain's batch. Deviation: starts from the shared source model.
    """

    name = "deep-coral"
    family = "domain adaptation"
    paper = "Sun & Saenko, 'Deep CORAL: Correlation Alignment for Deep Domain Adaptation', ECCV-W 2016"
    settings = frozenset({Setting.UDA})
    uses_source_data = True
    uses_unlabeled_target = True
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "coral_weight": 1.0}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        (images, labels), target = batch.source, batch.unlabeled
        features = self.network.features(torch.cat([images, target]))
        source, target = features[: len(images)], features[len(images):]
        d = self.network.feature_dim
        coral = (torch.cov(source.T) - torch.cov(target.T)).pow(2).sum() / (4 * d * d)
        return F.cross_entropy(self.network.head(source), labels) + self.hp["coral_weight"] * coral


def _digits(noise: float) -> datasets.DatasetDict:
    """scikit-learn's 8×8 digits, optionally with Gaussian pixel noise: a covariate shift."""
    bunch = load_digits()
    rng = np.random.default_rng(0)
    pixels = bunch.images / 16.0 + noise * rng.standard_normal(bunch.images.shape)
    images = (np.clip(pixels, 0, 1) * 255).astype(np.uint8)
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=list(DIGITS))})
    order = rng.permutation(len(images))
    splits = {"train": order[:1200], "test": order[1200:]}
    return datasets.DatasetDict({
        split: datasets.Dataset.from_dict(
            {"image": [img for img in images[idx]], "label": bunch.target[idx].tolist()}, features=features)
        for split, idx in splits.items()
    })


@tlarena.hookimpl
def register_methods(register):
    register(LabelSmoothingFineTune)
    register(DeepCORAL)


@tlarena.hookimpl
def register_pairs(register):
    clean = tlarena.BuiltDataset("example-digits", lambda: _digits(0.0), DIGITS)
    noisy = tlarena.BuiltDataset("example-digits-noisy", lambda: _digits(0.35), DIGITS)
    register(tlarena.DomainPair(clean, noisy, suite="example",
                                description="8×8 digits → the same digits under pixel noise"))
