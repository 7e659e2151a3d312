"""BNM: batch nuclear-norm maximization of the target predictions."""
import torch

import tlarena
from tlarena.adaptation import AdaptationMethod, batch_nuclear_norm, forward_source_and_target


class BNM(AdaptationMethod):
    """Batch nuclear-norm maximization.

    Paper: Cui et al., "Towards Discriminability and Diversity: Batch Nuclear-norm Maximization under
    Label Insufficient Situations", CVPR 2020, eq. 9–10:
        L = CE(x_s, y_s) − λ · ‖A_t‖_* / B,
    A_t the B × C matrix of softmax predictions of the target batch, ‖·‖_* its nuclear norm (sum of
    singular values): larger means both confident (discriminability) and spread over classes
    (diversity). Paper default for domain adaptation: λ = 1.
    Deviations: starts from the shared source model; the harness's learning-rate schedule.
    """

    name = "bnm"
    paper = "Cui et al., 'Towards Discriminability and Diversity: Batch Nuclear-norm Maximization', CVPR 2020"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "trade_off": 1.0}
    search_space = {"lr": ("log", 1e-3, 0.05), "trade_off": ("log", 0.1, 2.0)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        out = forward_source_and_target(self.network, batch)
        return out.classification - self.hp["trade_off"] * batch_nuclear_norm(out.target_logits.softmax(1))
