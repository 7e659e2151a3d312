"""FixMatch: pseudo-labels from a weak view train the prediction on a strong view of the same image.

Paper: Sohn et al., "FixMatch: Simplifying Semi-Supervised Learning with Consistency and
Confidence", NeurIPS 2020. With B labeled and μB unlabeled images per step (μ = 7):
    L = CE(x_weak, y) + λ_u · (1/μB) Σ 1[max q_b ≥ τ] · CE(p(strong(u_b)), argmax q_b),
q_b = p(weak(u_b)) without gradient, τ = 0.95, λ_u = 1. Labeled and unlabeled images go through
the network in one batch, as in the paper, so batch norm sees them together.
Deviations: runs in few-shot domain adaptation (target labels are the labeled set) from the shared
source model; no exponential moving average of the weights for evaluation; the strong view is the
built-in ``strong`` augmentation (RandAugment at a fixed magnitude, see its docstring).
"""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting


class FixMatch(tlarena.TransferMethod):
    name = "fixmatch-fixture"
    family = "self-training"
    paper = "Sohn et al., 'FixMatch: Simplifying Semi-Supervised Learning ...', NeurIPS 2020"
    settings = frozenset({Setting.FEW_SHOT})
    init = "source"
    uses_unlabeled_target = True
    unlabeled_ratio = 7
    views = {"target": ("weak",), "unlabeled": ("weak", "strong")}
    hparams = {"lr": 0.03, "weight_decay": 5e-4, "threshold": 0.95, "unlabeled_weight": 1.0}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        labeled, labels = batch.views["target"]["weak"], batch.target[1]
        weak, strong = batch.views["unlabeled"]["weak"], batch.views["unlabeled"]["strong"]
        logits = self.network(torch.cat([labeled, weak, strong]))
        supervised = F.cross_entropy(logits[: len(labeled)], labels)
        weak_logits, strong_logits = logits[len(labeled):].chunk(2)
        confidence, pseudo = weak_logits.detach().softmax(1).max(1)
        mask = (confidence >= self.hp["threshold"]).float()
        unsupervised = (F.cross_entropy(strong_logits, pseudo, reduction="none") * mask).mean()
        return supervised + self.hp["unlabeled_weight"] * unsupervised
