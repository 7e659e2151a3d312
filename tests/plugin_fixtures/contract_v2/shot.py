"""SHOT: source hypothesis transfer. The source head stays fixed; the features adapt to the target.

Paper: Liang et al., "Do We Really Need to Access the Source Data? Source Hypothesis Transfer for
Unsupervised Domain Adaptation", ICML 2020. With p = softmax(h(f(x_t))) and the head h frozen:
    L = E[H(p)] − H(E[p]) + β · CE(p, ŷ),   β = 0.3,
information maximization plus self-supervised pseudo-labels ŷ: class centroids in feature space
weighted by p over the whole target set, one refinement with hard labels, then the nearest centroid
by cosine distance. The centroids come from a phase over every unlabeled target image.
Deviations: the phase runs every 50 steps (the paper: every epoch), and each image takes the label of
its nearest centroid at the step it is drawn, not a label fixed at the epoch start; no bottleneck
layer or weight-normalized head; the source model is trained without label smoothing.
"""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting


def _augmented(features: torch.Tensor) -> torch.Tensor:
    """Features with a constant 1 appended, L2-normalized: the paper's cosine space."""
    return F.normalize(torch.cat([features, torch.ones_like(features[:, :1])], 1), dim=1)


class SHOT(tlarena.TransferMethod):
    name = "shot-fixture"
    family = "domain adaptation"
    paper = "Liang et al., 'Do We Really Need to Access the Source Data? ...', ICML 2020"
    settings = frozenset({Setting.SOURCE_FREE})
    init = "source"
    uses_unlabeled_target = True
    phase_every = 50
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "pseudo_weight": 0.3}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        network.head.requires_grad_(False)
        self.register_buffer("centroids", torch.zeros(num_classes, network.feature_dim + 1))

    def phase(self, target: tlarena.TargetImages) -> None:
        self.network.eval()
        features = torch.cat([self.network.features(x).float() for x in target.batches()])
        probabilities, space = self.network.head(features).softmax(1), _augmented(features)
        centroids = probabilities.T @ space / probabilities.sum(0)[:, None].clamp_min(1e-8)
        hard = F.one_hot((space @ F.normalize(centroids, dim=1).T).argmax(1), self.num_classes).float()
        self.centroids = hard.T @ space / hard.sum(0)[:, None].clamp_min(1e-8)

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        features = self.network.features(batch.unlabeled)
        logits = self.network.head(features)
        p = logits.softmax(1)
        entropy = -(p * logits.log_softmax(1)).sum(1).mean()
        mean = p.mean(0)
        diversity = (mean * mean.clamp_min(1e-8).log()).sum()
        pseudo = (_augmented(features.detach().float()) @ F.normalize(self.centroids, dim=1).T).argmax(1)
        return entropy + diversity + self.hp["pseudo_weight"] * F.cross_entropy(logits, pseudo)
