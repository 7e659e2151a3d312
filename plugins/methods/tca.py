"""TCA: frozen source features mapped to transfer components that minimize MMD, then a linear head."""
import torch
import torch.nn.functional as F
from torch import nn

import tlarena
from tlarena import Setting
from tlarena.feature_transfer import FrozenFeatureMethod, transfer_components


class TCA(FrozenFeatureMethod):
    """Transfer component analysis on fixed features.

    Paper: Pan, Tsang, Kwok & Yang, "Domain Adaptation via Transfer Component Analysis", IEEE TNN
    22(2), 2011, section IV (the closed form):
        W = the m leading eigenvectors of (K L K + μ I)^{-1} K H K,   z(x) = k(x, X) W,
    K the kernel matrix over source and target rows X, L the MMD matrix, H the centering matrix;
    a linear classifier is trained on the mapped source features z(x_s) and applied to z(x_t).
    Paper defaults: μ = 1; m and the kernel chosen per experiment (Gaussian kernels among them).
    Choices: m = 30 components; a Gaussian kernel whose width is the median squared distance;
    X a uniform subsample of at most 500 source and 500 target training rows (the eigenproblem
    is cubic in |X|), the rest of the source mapped out of sample by k(x, X) W.
    Deviations: the features are the source model's; each component standardized over X; the
    classifier is softmax regression trained by SGD with the harness's schedule (the paper: SVM or
    1-NN). Before its phase (step 0 of the curve) it predicts with the source model. Each source
    row is mapped to z(x) once, after the phase, and the mapped rows are reused every step.
    """

    name = "tca"
    paper = "Pan et al., 'Domain Adaptation via Transfer Component Analysis', IEEE TNN 2011"
    settings = frozenset({Setting.UDA})
    uses_source_data = True
    phase_sees_source = True
    hparams = {"lr": 0.05, "weight_decay": 5e-4, "components": 30, "mu": 1.0, "per_domain": 500}
    search_space = {"lr": ("log", 1e-3, 0.5), "components": [10, 30, 50], "mu": ("log", 0.1, 10.0)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        self.classifier = nn.Linear(hparams["components"], num_classes)
        self.components = None
        self.mapped_source = None       # z(x) of every source row, once the mapping is fitted

    def phase(self, target: tlarena.TargetImages, source: tlarena.SourceImages) -> None:
        source_features = self.tables["source"].fill(images for images, _ in source.batches())
        target_features = torch.cat([self.frozen_features(images) for images in target.batches()])
        per_domain = self.hp["per_domain"]
        self.components = transfer_components(_subsample(source_features, per_domain),
                                              _subsample(target_features, per_domain),
                                              self.hp["components"], self.hp["mu"])
        if self.reuse_features:         # the mapping is fixed from here on: map each source row once
            self.mapped_source = self.components(source_features)

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        if self.mapped_source is None:
            features, labels = self.labeled_features(batch, "source")
            return F.cross_entropy(self.classifier(self.components(features)), labels)
        _, labels = batch.source
        mapped = self.mapped_source[batch.rows["source"].to(self.mapped_source.device)]
        return F.cross_entropy(self.classifier(mapped), labels)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        if self.components is None:
            return self.network(x)
        return self.classifier(self.components(self.frozen_features(x)))


def _subsample(rows: torch.Tensor, size: int) -> torch.Tensor:
    """At most ``size`` rows, drawn from torch's seeded generator."""
    return rows if len(rows) <= size else rows[torch.randperm(len(rows))[:size].to(rows.device)]
