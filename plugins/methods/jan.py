"""JAN: joint adaptation networks, the joint MMD of features and predictions across domains."""
import torch

import tlarena
from tlarena.adaptation import AdaptationMethod, forward_source_and_target, jmmd, reversal_schedule

FEATURE_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
PREDICTION_SCALES = (1.0,)


class JAN(AdaptationMethod):
    """Joint adaptation network.

    Paper: Long, Zhu, Wang & Jordan, "Deep Transfer Learning with Joint Adaptation Networks", ICML
    2017, eq. 10–11 (JMMD) and 12:
        L = CE(x_s, y_s) + λ_p · JMMD²({z_s, softmax(g_s)}, {z_t, softmax(g_t)}),
        JMMD² = E Π_l k^l(a_s^l, a_s'^l) + E Π_l k^l(a_t^l, a_t'^l) − 2 E Π_l k^l(a_s^l, a_t^l),
    the kernel of the joint distribution the product of one kernel per layer: the features z
    before the head (a family of 5 Gaussian kernels at 2^{-2}..2^{2} times the median squared
    distance) and the softmax predictions (one Gaussian kernel of the median width). λ_p = λ (2 /
    (1 + exp(−10 p)) − 1), the paper's progressive schedule for the adaptation factor. Paper
    defaults: λ = 1, SGD with momentum 0.9.
    Deviations: one feature layer before the head instead of fc6–fc7; the quadratic-time estimate
    on the batch (the paper: the linear-time one); no adversarial variant (JAN-A); starts from the
    shared source model; the harness's learning-rate schedule.
    """

    name = "jan"
    paper = "Long et al., 'Deep Transfer Learning with Joint Adaptation Networks', ICML 2017"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "trade_off": 1.0}
    search_space = {"lr": ("log", 1e-3, 0.05), "trade_off": ("log", 0.1, 3.0)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        out = forward_source_and_target(self.network, batch)
        discrepancy = jmmd([out.source_features, out.source_logits.softmax(1)],
                           [out.target_features, out.target_logits.softmax(1)],
                           [FEATURE_SCALES, PREDICTION_SCALES])
        return out.classification + self.hp["trade_off"] * reversal_schedule(self.progress.p) * discrepancy
