"""Importance resampling: unweighted ERM on source examples drawn with probability ∝ p_T(x) / p_S(x)."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena.instance_transfer import DensityRatioMethod, resample


class ImportanceResampling(DensityRatioMethod):
    """Correcting covariate shift by resampling the source instead of weighting its loss.

    Paper: Zadrozny, "Learning and Evaluating Classifiers under Sample Selection Bias", ICML 2004,
    section 3 (re-weighting by the inverse selection probability, there done by sampling as in
    "costing", Zadrozny, Langford & Abe, ICDM 2003): draw (x, y) from the source with probability
    ∝ w(x) = p_T(x) / p_S(x), then minimize the plain loss
        L = Σ_{j ∈ draw} ℓ(f(x_j), y_j) / |draw|,   P(draw row i) = w(x_i) / Σ_k w(x_k),
    whose expectation is the importance-weighted risk of ``importance-weighting``. The ratio is the
    same estimate (a logistic-regression domain classifier, Bickel et al., JMLR 2009, fitted once in
    the phase on the source model's class posteriors, see ``DensityRatioMethod``), flattened (λ),
    capped at 10 (mean 1).
    What trains: the source model's linear head on its frozen features, started from the source head,
    by SGD with the harness's schedule. Paper defaults: none for the ratio (the paper assumes the
    selection probabilities known); costing uses rejection sampling.
    Deviations: each step draws its batch-size source rows with replacement from the whole source
    (sampling with replacement, not rejection sampling), ignoring the stream's uniform draw; the model
    is a softmax head on fixed deep features, with weight decay 5·10⁻² (as ``importance-weighting``);
    the ratio is estimated on posteriors, not x. Each image's features are computed once.
    """

    name = "importance-resampling"
    paper = "Zadrozny, 'Learning and Evaluating Classifiers under Sample Selection Bias', ICML 2004"

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        features = self.tables["source"].values
        rows = resample(self.source_weights, len(batch.rows["source"])).to(features.device)
        return F.cross_entropy(self.network.head(features[rows]), self.source_labels[rows])
