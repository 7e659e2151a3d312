"""Shared pieces of self-training methods, written once and public for any plugin to import.

Confidence-thresholded pseudo-labels and their loss (Pseudo-Label, FixMatch), the linear ramp of a
loss weight (Pseudo-Label), information maximization and the nearest-centroid pseudo-labels of
SHOT. Each is the math of one equation; the methods in ``tlarena_plugins.methods`` cite where it
comes from.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from tlarena.adaptation import entropy

DIVERSITY_EPSILON = 1e-5   # SHOT's code: log(p̄ + 1e-5) keeps a class nobody predicts finite


def confident_pseudo_labels(logits: torch.Tensor, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """ŷ = argmax q and the mask 1[max q ≥ τ] of each row, q = softmax(logits) taken without gradient."""
    confidence, labels = logits.detach().float().softmax(1).max(1)
    return labels, (confidence >= threshold).float()


def pseudo_label_loss(logits: torch.Tensor, teacher_logits: torch.Tensor, threshold: float) -> torch.Tensor:
    """(1/N) Σ_b 1[max q_b ≥ τ] · CE(logits_b, argmax q_b), q = softmax(teacher_logits) without
    gradient; N counts every row, kept or not (Lee's 1/n', FixMatch's 1/μB)."""
    labels, mask = confident_pseudo_labels(teacher_logits, threshold)
    return (F.cross_entropy(logits, labels, reduction="none") * mask).mean()


def linear_ramp(p: float, start: float, end: float) -> float:
    """0 before ``start``, 1 after ``end``, linear between: Lee's α(t) / α_f over training progress p."""
    if p <= start:
        return 0.0
    return 1.0 if p >= end else (p - start) / (end - start)


def information_maximization(logits: torch.Tensor) -> torch.Tensor:
    """L_ent + L_div of SHOT (Liang et al., eq. 2–3): E_b[H(p_b)] − H(p̄), p̄ the batch's mean
    prediction. Its minimum, −log C, needs predictions both confident and spread over the C classes."""
    p = logits.float().softmax(1)
    mean = p.mean(0)
    return entropy(p).mean() + (mean * torch.log(mean + DIVERSITY_EPSILON)).sum()


def cosine_space(features: torch.Tensor) -> torch.Tensor:
    """Features with a constant 1 appended, L2-normalized: where SHOT measures cosine distances."""
    features = features.float()
    return F.normalize(torch.cat([features, torch.ones_like(features[:, :1])], 1), dim=1)


def nearest_centroid(features: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """The index of each row's nearest centroid by cosine distance (in ``cosine_space``)."""
    return (cosine_space(features) @ F.normalize(centroids, dim=1).T).argmax(1)


def class_centroids(features: torch.Tensor, probabilities: torch.Tensor, rounds: int = 1) -> torch.Tensor:
    """SHOT's self-supervised centroids (eq. 4–6): c_k = Σ_x p_k(x) x̂ / Σ_x p_k(x) over every target
    feature x̂ in ``cosine_space``, then ``rounds`` times again with the hard nearest-centroid labels."""
    space = cosine_space(features)
    weights = probabilities.float()
    for _ in range(rounds + 1):
        centroids = weights.T @ space / (weights.sum(0)[:, None] + 1e-8)
        weights = F.one_hot((space @ F.normalize(centroids, dim=1).T).argmax(1), len(centroids)).float()
    return centroids
