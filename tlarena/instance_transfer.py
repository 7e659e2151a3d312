"""Instance transfer: source examples re-weighted or re-sampled so that training on them serves the
target, written once and public for any plugin to import.

``DensityRatioMethod``, the base of methods that learn on the source model's frozen features with
the source re-weighted by the density ratio; ``fit_domain_classifier``, a logistic regression
telling target rows from source rows, whose odds give the density ratio w(x) = p_T(x) / p_S(x)
(Bickel, Brückner & Scheffer, JMLR 2009, eq. 4);
``importance_weights`` (flattened, clipped, mean 1) and ``resample`` (draws ∝ w); and the pieces of
TrAdaBoost (Dai et al., ICML 2007): ``tradaboost_beta``, ``tradaboost_update`` and ``weighted_vote``.
The methods in ``tlarena_plugins.methods`` cite the papers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from tlarena.feature_transfer import FrozenFeatureMethod
from tlarena.methods import SourceImages, TargetImages
from tlarena.settings import Setting


@dataclass
class DomainClassifier:
    """p(target | x) = σ(θᵀ [(x − mean) / scale, 1]), fitted on ``n_source`` and ``n_target`` rows."""

    mean: torch.Tensor
    scale: torch.Tensor
    theta: torch.Tensor
    n_source: int
    n_target: int

    def log_odds(self, rows: torch.Tensor) -> torch.Tensor:
        """log p(target | x) / p(source | x) of each row."""
        return _design(rows.double(), self.mean, self.scale) @ self.theta

    def density_ratio(self, rows: torch.Tensor) -> torch.Tensor:
        """w(x) = p(target | x) / p(source | x) · n_s / n_t, the estimate of p_T(x) / p_S(x): Bayes'
        rule with the domain priors n_t / n and n_s / n divided out."""
        # clamped so that float32 holds every ratio (importance_weights caps them anyway)
        return torch.exp((self.log_odds(rows) + math.log(self.n_source / self.n_target)).clamp(-80, 80)).float()


def _design(rows: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    standardized = (rows - mean) / scale
    return torch.cat([standardized, torch.ones(len(rows), 1, dtype=rows.dtype, device=rows.device)], 1)


def fit_domain_classifier(source: torch.Tensor, target: torch.Tensor, l2: float = 1e-2,
                          iterations: int = 50) -> DomainClassifier:
    """Logistic regression, target = 1, on standardized rows: Newton's method on the mean logistic
    loss + (l2 / 2) ‖θ‖² (the bias unpenalized), each step halved until the loss decreases. Convex,
    so the answer does not depend on a seed or a learning rate."""
    with torch.autocast(source.device.type, enabled=False):
        return _fit(torch.cat([source, target]).double(), len(source), len(target), l2, iterations)


def _fit(pooled: torch.Tensor, n_source: int, n_target: int, l2: float, iterations: int) -> DomainClassifier:
    mean, scale = pooled.mean(0), pooled.std(0).clamp_min(1e-6)
    x = _design(pooled, mean, scale)
    y = torch.cat([torch.zeros(n_source), torch.ones(n_target)]).to(x)
    penalty = torch.full((x.shape[1],), l2, dtype=x.dtype, device=x.device)
    penalty[-1] = 0.0

    def loss(theta):
        return F.binary_cross_entropy_with_logits(x @ theta, y) + 0.5 * (penalty * theta * theta).sum()

    theta = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)
    current = loss(theta)
    for _ in range(iterations):
        p = torch.sigmoid(x @ theta)
        gradient = x.T @ (p - y) / len(x) + penalty * theta
        hessian = (x.T * (p * (1 - p))) @ x / len(x) + torch.diag(penalty)
        hessian[-1, -1] += 1e-10      # the unpenalized bias: defined even where every p(1 − p) is ~0
        step = torch.linalg.solve(hessian, gradient)
        size = 1.0
        while size > 1e-4 and loss(theta - size * step) > current:
            size /= 2
        theta, previous = theta - size * step, current
        current = loss(theta)
        if previous - current < 1e-12:
            break
    return DomainClassifier(mean, scale, theta, n_source, n_target)


def importance_weights(ratio: torch.Tensor, flattening: float = 1.0, clip: float | None = None) -> torch.Tensor:
    """w^λ (Shimodaira's flattening: λ = 1 unbiased, λ = 0 unweighted), scaled to mean 1; with
    ``clip`` (≥ 1), min(s · w^λ, clip) with the scale s that makes the mean 1: a few huge weights
    would otherwise make the weighted risk the loss of a handful of examples."""
    weights = ratio.double().clamp_min(0) ** flattening
    weights = weights / weights.mean()
    if clip is None:
        return weights.float()
    low, high = 1.0, 1.0                 # the mean of min(s w, clip) grows with s, from ≤ 1 at s = 1
    while weights.mul(high).clamp_max(clip).mean() < 1 and high < 1e12:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if weights.mul(middle).clamp_max(clip).mean() < 1 else (low, middle)
    return weights.mul(high).clamp_max(clip).float()


def effective_sample_size(weights: torch.Tensor) -> float:
    """(Σ w)² / Σ w²: how many equally weighted examples the weighted sample is worth."""
    return float(weights.sum() ** 2 / (weights * weights).sum())


def resample(weights: torch.Tensor, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``count`` row indices drawn with replacement, row i with probability w_i / Σ w (on the CPU,
    from torch's seeded generator unless one is given)."""
    return torch.multinomial(weights.detach().float().cpu(), count, replacement=True, generator=generator)


def tradaboost_beta(n_source: int, rounds: int) -> float:
    """β = 1 / (1 + √(2 ln n / N)) of TrAdaBoost (Dai et al., ICML 2007, Algorithm 1): the factor a
    misclassified source example's weight is multiplied by each round, n source examples, N rounds."""
    return 1.0 / (1.0 + math.sqrt(2.0 * math.log(n_source) / rounds))


def round_beta(target_weights: torch.Tensor, target_wrong: torch.Tensor, max_error: float = 0.499,
               min_error: float = 1e-3) -> float:
    """β_t = ε_t / (1 − ε_t), ε_t = Σ_T w_i [wrong_i] / Σ_T w_i the weighted error on the labeled
    target (TrAdaBoost, Algorithm 1, steps 3–4). ε_t is kept in [min_error, max_error]: the paper
    requires ε_t < 1/2, and ε_t = 0 would give the round an infinite vote."""
    error = float((target_weights * target_wrong.to(target_weights.dtype)).sum() / target_weights.sum())
    error = min(max(error, min_error), max_error)
    return error / (1.0 - error)


def tradaboost_update(source_weights: torch.Tensor, source_wrong: torch.Tensor, target_weights: torch.Tensor,
                      target_wrong: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor, float]:
    """One round of TrAdaBoost's update (Algorithm 1, step 5), for 0/1 losses ``*_wrong``:
        w_i ← w_i β^[wrong_i] (source),   w_i ← w_i β_t^−[wrong_i] (target),
    β_t from ``round_beta``. Returns the new weights, scaled together to sum to the number of rows
    (the paper normalizes them to a distribution each round; the scale keeps float32 away from 0),
    and β_t."""
    beta_t = round_beta(target_weights, target_wrong)
    source = source_weights * beta ** source_wrong.to(source_weights.dtype)
    target = target_weights * beta_t ** -target_wrong.to(target_weights.dtype)
    total = (source.sum() + target.sum()) / (len(source) + len(target))
    return source / total, target / total, beta_t


def weighted_vote(predictions: torch.Tensor, betas: list[float], num_classes: int) -> torch.Tensor:
    """Class scores Σ_t ln(1 / β_t) [h_t(x) = c] of the rounds' predicted classes (rounds × rows):
    the multi-class form of TrAdaBoost's output Π_t β_t^−h_t(x) ≥ Π_t β_t^−1/2, in logs."""
    votes = torch.tensor([math.log(1.0 / b) for b in betas], dtype=torch.float32, device=predictions.device)
    one_hot = F.one_hot(predictions, num_classes).float()           # rounds × rows × classes
    return torch.einsum("r,rnc->nc", votes, one_hot)


RATIO_INPUTS = ("posteriors", "features")     # what the domain classifier of ``DensityRatioMethod`` sees


class DensityRatioMethod(FrozenFeatureMethod):
    """Base of the importance methods: the source model's trunk frozen, its head trained further on
    the source (starting where the source model left it), the source re-weighted by w(x). The phase
    (once, before step 1) fills the source feature table, fits the domain classifier on every source
    and target training image and keeps ``self.source_weights``: one importance weight per source row
    (``Batch.rows["source"]``), from ``importance_weights``.

    ``ratio_on`` says what the domain classifier sees: ``"posteriors"`` (default), the source model's
    class probabilities p_S(y | x); ``"features"``, its frozen features. Under a label shift
    p_T(x) / p_S(x) = Σ_y w(y) p_S(y | x), a function of the posteriors alone, so a classifier on them
    estimates the ratio without the image style, which on features lets it tell the domains apart
    almost perfectly and leaves a few huge weights that follow style, not class
    (``benchmarks/reweighting_diagnosis.py``). On features it corrects any covariate shift the
    features show, as the papers intend, where the domains overlap.

    The head's weight decay is 5·10⁻² (the harness's methods: 5·10⁻⁴): on features the source model
    already separates, the cross-entropy's minimizer is the max-margin direction whatever the weights,
    so weighting has no effect unless a regularizer keeps the solution from it (Byrd & Lipton, "What
    is the effect of importance weighting in deep learning?", ICML 2019). The value was chosen on
    MNIST → skewed USPS after 5·10⁻⁴ moved nothing (docs/reproduction.md: same weight decay with the
    weights off scores as source-only)."""

    family = "instance transfer"
    settings = frozenset({Setting.UDA})
    uses_source_data = True
    phase_sees_source = True
    hparams = {"lr": 0.01, "weight_decay": 5e-2, "domain_l2": 1e-2, "flattening": 1.0, "clip": 10.0,
               "ratio_on": "posteriors"}
    search_space = {"lr": ("log", 1e-3, 0.05), "domain_l2": ("log", 1e-3, 1.0), "flattening": ("uniform", 0.3, 1.0),
                    "ratio_on": list(RATIO_INPUTS)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        if hparams["ratio_on"] not in RATIO_INPUTS:
            raise ValueError(f"ratio_on must be one of {', '.join(RATIO_INPUTS)}, not {hparams['ratio_on']!r}")
        network.head.requires_grad_(True)
        self.register_buffer("source_weights", torch.ones(0))
        self.register_buffer("source_labels", torch.zeros(0, dtype=torch.long))

    def phase(self, target: TargetImages, source: SourceImages) -> None:
        source_rows = fill_source_table(self, source).float()
        target_rows = torch.cat([self.frozen_features(images) for images in target.batches()]).float()
        if self.hp["ratio_on"] == "posteriors":        # the head is still the source model's here
            source_rows, target_rows = (self.network.head(rows).softmax(1) for rows in (source_rows, target_rows))
        classifier = fit_domain_classifier(source_rows, target_rows, self.hp["domain_l2"])
        self.source_weights = importance_weights(classifier.density_ratio(source_rows),
                                                 self.hp["flattening"], self.hp["clip"])


def fill_source_table(method: FrozenFeatureMethod, source: SourceImages) -> torch.Tensor:
    """Every source row's frozen features into ``method.tables["source"]`` (returned) and its labels
    into ``method.source_labels``, in one pass over the source."""
    labels = []

    def images():
        for batch_images, batch_labels in source.batches():
            labels.append(batch_labels)
            yield batch_images

    features = method.tables["source"].fill(images())
    method.source_labels = torch.cat(labels)
    return features
