"""Shallow CORAL: frozen source features re-coloured with the target's covariance, then a linear head."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting
from tlarena.feature_transfer import FrozenFeatureMethod, coral_recolouring


class ShallowCORAL(FrozenFeatureMethod):
    """Correlation alignment of fixed features, in closed form.

    Paper: Sun, Feng & Saenko, "Return of Frustratingly Easy Domain Adaptation", AAAI 2016,
    Algorithm 1 (the closed form):
        D_S* = D_S (C_S + I)^{-1/2} (C_T + I)^{1/2},   then a linear classifier trained on (D_S*, y_S)
    and applied to the target features D_T as they are. C_S, C_T are the covariances of all the
    source and target training features, computed once in the phase. Paper defaults: the identity
    as regularizer, a linear SVM on the re-coloured source features.
    Deviations: the features are the source model's (the paper: ImageNet-trained CNN features, or
    SURF); the linear classifier is softmax regression trained by SGD with the harness's schedule
    (not an SVM); no feature normalization before the re-colouring. Registered as ``coral-linear``
    (``coral`` is Deep CORAL).
    """

    name = "coral-linear"
    paper = "Sun, Feng & Saenko, 'Return of Frustratingly Easy Domain Adaptation', AAAI 2016"
    settings = frozenset({Setting.UDA})
    uses_source_data = True
    phase_sees_source = True
    hparams = {"lr": 0.05, "weight_decay": 5e-4}
    search_space = {"lr": ("log", 1e-3, 0.5)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        network.model.reset_classifier(num_classes)
        self.register_buffer("recolouring", torch.eye(network.feature_dim))

    def phase(self, target: tlarena.TargetImages, source: tlarena.SourceImages) -> None:
        source_features = self.tables["source"].fill(images for images, _ in source.batches())
        target_features = torch.cat([self.frozen_features(images) for images in target.batches()])
        self.recolouring.copy_(coral_recolouring(source_features.float(), target_features.float()))

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        features, labels = self.labeled_features(batch, "source")
        return F.cross_entropy(self.network.head(features @ self.recolouring.to(features.dtype)), labels)
