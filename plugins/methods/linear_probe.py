"""Linear probe: frozen source backbone, a new linear head trained on target labels."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting
from tlarena.feature_transfer import FrozenFeatureMethod


class LinearProbe(FrozenFeatureMethod):
    """Features of the source model kept fixed; only a fresh linear classifier learns.

    Paper: Donahue et al., "DeCAF: A Deep Convolutional Activation Feature for Generic Visual
    Recognition", ICML 2014 (frozen deep features + linear classifier). Deviation: the classifier is
    trained by SGD with the harness's schedule instead of a separately tuned SVM / logistic regression.
    Batch-norm statistics of the frozen backbone stay frozen too (the backbone is kept in eval mode).
    Each training image's features are computed once and reused (``FeatureTable``); with the pair's
    augmentation, an image's features are those of its first drawn augmentation.
    """

    name = "linear-probe"
    family = "parameter transfer"
    paper = "Donahue et al., 'DeCAF: A Deep Convolutional Activation Feature ...', ICML 2014"
    settings = frozenset({Setting.FEW_SHOT, Setting.SUPERVISED, Setting.TASK})
    hparams = {"lr": 0.05, "weight_decay": 5e-4}
    search_space = {"lr": ("log", 1e-3, 0.5)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        network.model.reset_classifier(num_classes)

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        features, labels = self.labeled_features(batch, "target")
        return F.cross_entropy(self.network.head(features), labels)
