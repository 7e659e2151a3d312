"""FixMatch: pseudo-labels from a weak view train the prediction on a strong view of the same image."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting
from tlarena.self_training import pseudo_label_loss


class FixMatch(tlarena.TransferMethod):
    """Consistency between weak and strong views, on confident pseudo-labels.

    Paper: Sohn et al., "FixMatch: Simplifying Semi-Supervised Learning with Consistency and
    Confidence", NeurIPS 2020, eq. 1–4. With B labeled and μB unlabeled images per step:
        L = (1/B) Σ_b CE(weak(x_b), y_b)
            + λ_u · (1/μB) Σ_b 1[max q_b ≥ τ] · CE(strong(u_b), argmax q_b),
    q_b = p(weak(u_b)) without gradient. Labeled and unlabeled images go through the network in one
    batch, as in the paper's code, so batch norm sees them together.
    Paper defaults: μ = 7, τ = 0.95, λ_u = 1, SGD with Nesterov momentum 0.9 at 0.03, weight decay
    5e-4, cosine decay.
    Settings: ``uda`` — self-training for domain adaptation: the labeled images are the source's,
    the unlabeled the target's; ``few-shot`` — the paper's semi-supervised learning on the target,
    the labeled images being the source's and the target's few labeled ones together.
    Deviations: starts from the shared source model; no exponential moving average of the weights
    for evaluation; neither view flips, on any pair: the paper's protocol for SVHN, whose digits a
    mirror would relabel (see ``tlarena_plugins.augmentations``); the strong view's RandAugment has
    a fixed magnitude; the harness's warm-up before the cosine decay.
    """

    name = "fixmatch"
    family = "self-training"
    paper = "Sohn et al., 'FixMatch: Simplifying Semi-Supervised Learning with Consistency and Confidence', NeurIPS 2020"
    settings = frozenset({Setting.UDA, Setting.FEW_SHOT})
    init = "source"
    uses_source_data = True
    uses_unlabeled_target = True
    unlabeled_ratio = 7
    views = {"source": ("weak",), "target": ("weak",), "unlabeled": ("weak", "strong")}
    hparams = {"lr": 0.03, "weight_decay": 5e-4, "threshold": 0.95, "unlabeled_weight": 1.0}
    search_space = {"lr": ("log", 3e-3, 0.05), "threshold": ("uniform", 0.8, 0.99)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        labeled = [(batch.views[name]["weak"], pair[1])
                   for name, pair in (("source", batch.source), ("target", batch.target)) if pair is not None]
        images, labels = torch.cat([x for x, _ in labeled]), torch.cat([y for _, y in labeled])
        weak, strong = batch.views["unlabeled"]["weak"], batch.views["unlabeled"]["strong"]
        logits = self.network(torch.cat([images, weak, strong]))
        weak_logits, strong_logits = logits[len(images):].chunk(2)
        unlabeled = pseudo_label_loss(strong_logits, weak_logits, self.hp["threshold"])
        return F.cross_entropy(logits[: len(images)], labels) + self.hp["unlabeled_weight"] * unlabeled
