"""Pseudo-Label: confident predictions on the unlabeled target trained on as if they were labels."""
import torch

import tlarena
from tlarena.adaptation import AdaptationMethod, forward_source_and_target
from tlarena.self_training import linear_ramp, pseudo_label_loss


class PseudoLabel(AdaptationMethod):
    """Pseudo-labelling of the target with the network's own confident predictions.

    Paper: Lee, "Pseudo-Label: The Simple and Efficient Semi-Supervised Learning Method for Deep
    Neural Networks", ICML Workshop on Challenges in Representation Learning 2013, eq. 15–16:
        L = CE(x_s, y_s) + α(t) · (1/n') Σ_b 1[max p_b ≥ τ] · CE(p_b, argmax p_b),
    p_b the prediction on the target image b of the same forward pass, its argmax recomputed at
    every step and carrying no gradient; α(t) rises linearly from 0 to α_f between T1 and T2.
    Paper defaults: α_f = 3, T1 = 100 and T2 = 600 epochs (from random weights).
    Deviations: the labeled set is the source (domain adaptation, not semi-supervised learning on
    one domain); the network starts from the shared source model, which stands for the paper's
    labeled-only epochs before T1, so α ramps from the first step to half of the budget; only
    confident pseudo-labels count (τ = 0.95; the paper keeps every one, τ = 0); no denoising
    auto-encoder pre-training; the harness's learning-rate schedule.
    """

    name = "pseudo-label"
    family = "self-training"
    paper = "Lee, 'Pseudo-Label: The Simple and Efficient Semi-Supervised Learning Method', ICML-W 2013"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "unlabeled_weight": 3.0, "threshold": 0.95, "ramp_end": 0.5}
    search_space = {"lr": ("log", 1e-3, 0.05), "unlabeled_weight": ("log", 0.3, 3.0),
                    "threshold": ("uniform", 0.0, 0.99)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        out = forward_source_and_target(self.network, batch)
        alpha = self.hp["unlabeled_weight"] * linear_ramp(self.progress.p, 0.0, self.hp["ramp_end"])
        unlabeled = pseudo_label_loss(out.target_logits, out.target_logits, self.hp["threshold"])
        return out.classification + alpha * unlabeled
