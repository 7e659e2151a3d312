"""Feature transfer on the frozen source model, written once and public for any plugin to import.

``FrozenFeatureMethod``, the base of methods that learn on the source model's frozen features;
``FeatureTable``, which computes those features once per image of a split and reuses them at every
later step; and the closed forms of shallow CORAL (``coral_recolouring``) and TCA
(``transfer_components``). The methods in ``tlarena_plugins.methods`` cite the papers.
"""
from __future__ import annotations

from typing import Callable, ClassVar, Iterable

import torch
from torch import nn

from tlarena.adaptation import median_heuristic
from tlarena.methods import Batch, TransferMethod


class FeatureTable:
    """The frozen features of one split's rows (``Batch.rows``): each computed the first time its row
    is asked for, or all at once by ``fill``, then reused, so the frozen trunk runs once per image
    instead of once per step. ``reuse=False`` computes them every time (the baseline of
    ``benchmarks/frozen_features.py``). An augmented stream's images count as their first draw."""

    def __init__(self, extract: Callable[[torch.Tensor], torch.Tensor], reuse: bool = True):
        self.extract, self.reuse = extract, reuse
        self.values: torch.Tensor | None = None
        self.known = torch.zeros(0, dtype=torch.bool)

    def fill(self, batches: Iterable[torch.Tensor]) -> torch.Tensor:
        """Features of every row of the split, from its batches in row order."""
        self.values = torch.cat([self.extract(images) for images in batches])
        self.known = torch.ones(len(self.values), dtype=torch.bool)
        return self.values

    def __call__(self, images: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        if not self.reuse:
            return self.extract(images)
        self._reserve(int(rows.max()) + 1)
        missing = ~self.known[rows]
        if missing.any():
            computed = self.extract(images[missing.to(images.device)])
            if self.values is None:
                self.values = computed.new_zeros(len(self.known), computed.shape[1])
            self.values[rows[missing].to(computed.device)] = computed
            self.known[rows[missing]] = True
        return self.values[rows.to(self.values.device)]

    def _reserve(self, size: int) -> None:
        if size <= len(self.known):
            return
        size = max(size, 2 * len(self.known))
        self.known = torch.cat([self.known, torch.zeros(size - len(self.known), dtype=torch.bool)])
        if self.values is not None:
            self.values = torch.cat([self.values, self.values.new_zeros(size - len(self.values), self.values.shape[1])])


class FrozenFeatureMethod(TransferMethod):
    """Base of methods that learn on the source model's features kept fixed: every parameter of the
    network frozen (a subclass makes a fresh head), the trunk kept in eval mode (no dropout, no
    batch-norm statistics updates), one ``FeatureTable`` per stream in ``self.tables``."""

    family = "feature transfer"
    init = "source"
    reuse_features: ClassVar[bool] = True

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        for parameter in network.parameters():
            parameter.requires_grad_(False)
        self.tables = {stream: FeatureTable(self.frozen_features, self.reuse_features)
                       for stream in ("source", "target", "unlabeled")}

    def train(self, mode: bool = True):
        super().train(mode)
        self.network.model.eval()
        self.network.head.train(mode)
        return self

    @torch.no_grad()
    def frozen_features(self, images: torch.Tensor) -> torch.Tensor:
        return self.network.features(images)

    def labeled_features(self, batch: Batch, stream: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(frozen features, labels) of a labeled stream's batch, from its table."""
        images, labels = getattr(batch, stream)
        return self.tables[stream](images, batch.rows[stream]), labels


def _symmetric_power(matrix: torch.Tensor, power: float) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return vectors @ torch.diag(values.clamp_min(1e-12) ** power) @ vectors.T


def coral_recolouring(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """A = (C_S + I)^{-1/2} (C_T + I)^{1/2} of shallow CORAL (Sun et al., AAAI 2016, Algorithm 1):
    ``source @ A`` whitens the source rows with their regularized covariance and re-colours them
    with the target's, so that Aᵀ (C_S + I) A = C_T + I."""
    s, t = source.double(), target.double()
    eye = torch.eye(s.shape[1], dtype=torch.float64, device=s.device)
    return (_symmetric_power(torch.cov(s.T) + eye, -0.5) @ _symmetric_power(torch.cov(t.T) + eye, 0.5)).to(source.dtype)


class TransferComponents(nn.Module):
    """x ↦ k(x, X) W, standardized: the TCA embedding of any row, X the rows it was fitted on."""

    def __init__(self, basis: torch.Tensor, weights: torch.Tensor, bandwidth: torch.Tensor):
        super().__init__()
        self.register_buffer("basis", basis)
        self.register_buffer("weights", weights)
        self.register_buffer("bandwidth", bandwidth)
        fitted = self._embed(basis)
        self.register_buffer("mean", fitted.mean(0))
        self.register_buffer("scale", fitted.std(0).clamp_min(1e-12))

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        kernel = torch.exp(-torch.cdist(x.to(self.basis), self.basis).pow(2) / self.bandwidth)
        return kernel @ self.weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((self._embed(x) - self.mean) / self.scale).to(x.dtype)


def transfer_components(source: torch.Tensor, target: torch.Tensor, components: int,
                        mu: float = 1.0) -> TransferComponents:
    """TCA (Pan et al., IEEE TNN 2011, section IV): W = the ``components`` leading eigenvectors of
    (K L K + μ I)^{-1} K H K, K the Gaussian kernel (median-heuristic width) over the pooled rows,
    L the MMD matrix (1/n_s², 1/n_t², −1/(n_s n_t) by block), H = I − 11ᵀ/n the centering matrix."""
    pooled = torch.cat([source, target]).double()
    distances = torch.cdist(pooled, pooled).pow(2)
    bandwidth = median_heuristic(distances)
    kernel, n = torch.exp(-distances / bandwidth), len(pooled)
    e = torch.cat([torch.full((len(source),), 1 / len(source)), torch.full((len(target),), -1 / len(target))])
    projected = kernel @ e.to(pooled)                        # K L K = (K e)(K e)ᵀ
    centering = torch.eye(n).to(pooled) - 1.0 / n
    scatter = kernel @ centering @ kernel
    constraint = torch.outer(projected, projected) + mu * torch.eye(n).to(pooled)
    # The generalized symmetric eigenproblem K H K w = λ (K L K + μ I) w, through a Cholesky factor.
    factor = torch.linalg.cholesky(constraint)
    half = torch.linalg.solve_triangular(factor, scatter, upper=False)
    reduced = torch.linalg.solve_triangular(factor, half.T, upper=False)
    _, vectors = torch.linalg.eigh((reduced + reduced.T) / 2)
    weights = torch.linalg.solve_triangular(factor.T, vectors[:, -components:].flip(1), upper=True)
    return TransferComponents(pooled.float(), weights.float(), bandwidth.float())
