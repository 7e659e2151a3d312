"""DAN: deep adaptation network, multi-kernel MMD between source and target representations."""
import torch

import tlarena
from tlarena.adaptation import AdaptationMethod, forward_source_and_target, mk_mmd


class DAN(AdaptationMethod):
    """Deep adaptation network.

    Paper: Long et al., "Learning Transferable Features with Deep Adaptation Networks", ICML 2015,
    eq. 3 and 8:
        L = CE(x_s, y_s) + λ Σ_l d²_k(D_s^l, D_t^l),   d²_k = E k(x,x') + E k(y,y') − 2 E k(x,y),
    k = Σ_u β_u k_u a family of Gaussian kernels whose bandwidths are multiples of the median
    pairwise squared distance (the median heuristic), summed over the adapted layers l: the
    features and, with ``adapt_logits`` (on by default), the logits. Paper defaults: λ = 1, the
    fully connected layers up to the classifier's adapted.
    Deviations: β uniform over 5 kernels at 2^{-2}..2^{2} times the median (the paper learns β by a
    quadratic program over a wider family of bandwidths); the quadratic-time estimate of MMD² on
    the batch (the paper: its linear-time unbiased estimate); one feature layer before the head
    instead of fc6–fc7; starts from the shared source model; the harness's learning-rate schedule.
    """

    name = "dan"
    paper = "Long et al., 'Learning Transferable Features with Deep Adaptation Networks', ICML 2015"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "trade_off": 1.0, "adapt_logits": True}
    search_space = {"lr": ("log", 1e-3, 0.05), "trade_off": ("log", 0.1, 3.0), "adapt_logits": [True, False]}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        out = forward_source_and_target(self.network, batch)
        discrepancy = mk_mmd(out.source_features, out.target_features)
        if self.hp["adapt_logits"]:
            discrepancy = discrepancy + mk_mmd(out.source_logits, out.target_logits)
        return out.classification + self.hp["trade_off"] * discrepancy
