"""MCC: minimum class confusion on the target predictions."""
import torch

import tlarena
from tlarena.adaptation import AdaptationMethod, entropy_weights, forward_source_and_target


def class_confusion(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """L_MCC of Jin et al.: the off-diagonal mass of the row-normalized, entropy-weighted class
    correlation Ŷᵀ W Ŷ of temperature-scaled predictions, averaged over the C classes."""
    predictions = (logits / temperature).softmax(1)
    weights = entropy_weights(predictions.detach()).unsqueeze(1)
    confusion = (predictions * weights).T @ predictions
    confusion = confusion / confusion.sum(dim=1, keepdim=True)
    return (confusion.sum() - confusion.trace()) / len(confusion)


class MCC(AdaptationMethod):
    """Minimum class confusion.

    Paper: Jin et al., "Minimum Class Confusion for Versatile Domain Adaptation", ECCV 2020, eq. 1–7:
        L = CE(x_s, y_s) + μ · L_MCC,  L_MCC = (1/C) Σ_j Σ_{j'≠j} |C̃_jj'|,
    Ŷ = softmax(z_t / T) over the target batch, C = Ŷᵀ W Ŷ with W_ii = B (1 + e^{−H(ŷ_i)}) /
    Σ_k (1 + e^{−H(ŷ_k)}) (uncertainty reweighting, eq. 3–4), C̃ = C normalized per class (eq. 6;
    C is symmetric, so dividing rows or columns by their sums leaves L_MCC the same). The entropy
    weights carry no gradient, as in the authors' code. Paper defaults: T = 2.5, μ = 1.
    Deviations: starts from the shared source model; the harness's learning-rate schedule (the
    paper: ×10 for the head, SGD with annealing).
    """

    name = "mcc"
    paper = "Jin et al., 'Minimum Class Confusion for Versatile Domain Adaptation', ECCV 2020"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "trade_off": 1.0, "temperature": 2.5}
    search_space = {"lr": ("log", 1e-3, 0.05), "trade_off": ("log", 0.3, 3.0),
                    "temperature": ("uniform", 1.5, 3.5)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        out = forward_source_and_target(self.network, batch)
        return out.classification + self.hp["trade_off"] * class_confusion(out.target_logits,
                                                                           self.hp["temperature"])
