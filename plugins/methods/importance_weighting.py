"""Importance weighting: ERM on the source with each example's loss weighted by p_T(x) / p_S(x)."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena.instance_transfer import DensityRatioMethod


class ImportanceWeighting(DensityRatioMethod):
    """Importance-weighted empirical risk minimization under covariate shift.

    Paper: Shimodaira, "Improving predictive inference under covariate shift by weighting the
    log-likelihood function", J. Stat. Plan. Inference 90(2), 2000, eq. 1.2 with the flattening of
    section 9 (also Sugiyama, Krauledat & Müller, JMLR 8, 2007, eq. 4, "adaptive IWERM"):
        L = Σ_i w(x_i)^λ ℓ(f(x_i), y_i) / n_s,   w(x) = p_T(x) / p_S(x),
    over the labeled source (x_i, y_i). The density ratio is estimated with a probabilistic domain
    classifier (Bickel, Brückner & Scheffer, "Discriminative Learning under Covariate Shift", JMLR 10,
    2009, eq. 4): w(x) = p(target | x) / p(source | x) · n_s / n_t, p from an L2-regularized logistic
    regression fitted (Newton's method) once, in the phase, on every source and target training image.
    Paper defaults: λ = 1 is unbiased, λ < 1 trades bias for variance (Shimodaira picks it by AIC,
    Sugiyama et al. by importance-weighted CV); no clip.
    What trains: the source model's linear head on its frozen features, started from the source
    head (so step 0 is source-only), by SGD with the harness's schedule on the weighted
    cross-entropy of each source batch; the trunk and its batch-norm statistics stay fixed.
    Deviations: the domain classifier sees the source model's class posteriors p_S(y | x)
    (``ratio_on = "features"``: its frozen features; the papers: x), which estimates the ratio of a
    label shift, Σ_y w(y) p_S(y | x), without the style that separates the domains (see
    ``DensityRatioMethod``); the model is a softmax head on fixed deep features, with weight decay
    5·10⁻² (Byrd & Lipton, ICML 2019: without a regularizer the weights change nothing on separable
    features); weights min(s · w^λ, ``clip`` = 10) with s making their mean 1; λ a hyperparameter
    (default 1), not chosen by AIC / IWCV. Each image's features are computed once (``FeatureTable``).
    """

    name = "importance-weighting"
    paper = "Shimodaira, 'Improving predictive inference under covariate shift ...', JSPI 2000"

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        features, labels = self.labeled_features(batch, "source")
        weights = self.source_weights[batch.rows["source"].to(self.source_weights.device)]
        losses = F.cross_entropy(self.network.head(features), labels, reduction="none")
        return (weights.to(losses) * losses).mean()
