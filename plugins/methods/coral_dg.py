"""CORAL across source domains: DomainBed's "CORAL", feature statistics aligned between domains."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena.generalization import GeneralizationMethod, pairwise_alignment


class CORALDG(GeneralizationMethod):
    """Deep CORAL turned to domain generalization: the source domains' feature means and covariances
    aligned with one another, as DomainBed's ``CORAL`` algorithm does.

    Paper: Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation", ECCV-W 2016;
    across source domains, Gulrajani & Lopez-Paz, "In Search of Lost Domain Generalization", ICLR
    2021 (DomainBed):
        L = CE(C(f(x)), y) + λ · 2/(K(K−1)) Σ_{i<j} [mean((μ_i − μ_j)²) + mean((C_i − C_j)²)],
    over the K domains in the batch, μ and C the mean and covariance of each domain's features
    (``tlarena.generalization.pairwise_alignment``). DomainBed's defaults: λ = 1 (``mmd_gamma``,
    searched in 10^[−1, 1]), Adam lr 5e-5, batch 32 per domain.
    Deviations: the cross-entropy is over the pooled batch, each domain weighed by its share of it
    (DomainBed averages per-domain means over equal batches); a domain with fewer than two images
    in a batch sits out that step's penalty; the penalty sits on the features before the head, as
    in DomainBed; starts from the backbone's weights with the harness's optimizer and budget (see
    ``GeneralizationMethod``). Registered as ``coral-dg``: ``coral`` is Deep CORAL in ``uda``.
    """

    name = "coral-dg"
    paper = "Sun & Saenko, ECCV-W 2016; across source domains as in Gulrajani & Lopez-Paz, ICLR 2021"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "trade_off": 1.0}
    search_space = {"lr": ("log", 1e-3, 0.1), "trade_off": ("log", 0.1, 10.0)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.source
        features = self.network.features(images)
        classification = F.cross_entropy(self.network.head(features), labels)
        return classification + self.hp["trade_off"] * pairwise_alignment(features, batch.source_domains)
