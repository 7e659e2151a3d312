"""Shared pieces of domain-adaptation methods, written once and public for any plugin to import.

``AdaptationMethod``, the base of methods that adapt with labeled source and unlabeled target
batches; gradient reversal with DANN's schedule, a domain discriminator and its loss, entropy, the
batch nuclear norm of BNM, the multilinear conditioning of CDAN, the multi-kernel MMD of DAN, the
joint MMD of JAN, the CORAL distance, and the batch-norm pieces of AdaBN and TENT. Each is the math
of one equation; the methods in
``tlarena_plugins.methods`` cite where it comes from.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from tlarena.methods import Batch, Network, TransferMethod
from tlarena.settings import Setting


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, coefficient: float) -> torch.Tensor:
        ctx.coefficient = coefficient
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.coefficient * grad, None


def reverse_gradient(x: torch.Tensor, coefficient: float = 1.0) -> torch.Tensor:
    """The gradient reversal layer R of Ganin et al.: identity forward, gradient times −coefficient."""
    return _ReverseGradient.apply(x, coefficient)


def reversal_schedule(p: float, gamma: float = 10.0) -> float:
    """λ_p = 2 / (1 + exp(−γ p)) − 1 (Ganin et al., JMLR 2016, γ = 10): 0 at p = 0, → 1 at p = 1, so
    the domain gradients, noisy while the discriminator is untrained, start small."""
    return 2.0 / (1.0 + math.exp(-gamma * p)) - 1.0


class DomainDiscriminator(nn.Sequential):
    """Source-vs-target classifier: ``layers`` hidden layers of ``hidden`` units (ReLU, dropout 0.5),
    then one logit (source = 1). Ganin et al. and Long et al. use two of 1024 on deep features."""

    def __init__(self, in_features: int, hidden: int = 1024, layers: int = 2):
        blocks: list[nn.Module] = []
        for index in range(layers):
            blocks += [nn.Linear(in_features if index == 0 else hidden, hidden), nn.ReLU(), nn.Dropout(0.5)]
        super().__init__(*blocks, nn.Linear(hidden if layers else in_features, 1))


def domain_adversarial_loss(discriminator: nn.Module, source: torch.Tensor, target: torch.Tensor,
                            weights: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross-entropy of ``discriminator`` telling source (1) from target (0), optionally with
    one weight per example (source rows first). Reverse the inputs' gradient to make it adversarial."""
    logits = discriminator(torch.cat([source, target])).squeeze(1)
    domains = torch.cat([torch.ones(len(source)), torch.zeros(len(target))]).to(logits)
    return F.binary_cross_entropy_with_logits(logits, domains, weight=weights)


def entropy(probabilities: torch.Tensor) -> torch.Tensor:
    """H(p) = −Σ_c p_c log p_c of each row (nats); log C for a uniform distribution over C classes."""
    return -(probabilities * torch.log(probabilities.clamp_min(1e-12))).sum(dim=1)


def entropy_weights(probabilities: torch.Tensor) -> torch.Tensor:
    """w = 1 + e^{−H(p)} per row, scaled to mean 1: confident predictions weigh more (CDAN+E, MCC)."""
    weights = 1.0 + torch.exp(-entropy(probabilities))
    return weights * len(weights) / weights.sum()


def batch_nuclear_norm(probabilities: torch.Tensor) -> torch.Tensor:
    """‖A‖_* / B of the B × C prediction matrix A (Cui et al., CVPR 2020): the sum of its singular
    values per row; largest when predictions are both confident and spread over the classes."""
    return torch.linalg.matrix_norm(probabilities, ord="nuc") / len(probabilities)


def multilinear_map(features: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
    """f ⊗ g of CDAN, flattened: each row the outer product of a feature and a prediction vector."""
    return torch.bmm(predictions.unsqueeze(2), features.unsqueeze(1)).flatten(1)


class RandomMultilinearMap(nn.Module):
    """T(f, g) = (R_f f) ⊙ (R_g g) / √d with fixed Gaussian R_f, R_g (Long et al., NeurIPS 2018): an
    unbiased estimate of f ⊗ g's inner products in ``dim`` dimensions (the paper's d = 1024)."""

    def __init__(self, feature_dim: int, num_classes: int, dim: int = 1024):
        super().__init__()
        self.dim = dim
        self.register_buffer("feature_projection", torch.randn(feature_dim, dim))
        self.register_buffer("prediction_projection", torch.randn(num_classes, dim))

    def forward(self, features: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
        return (features @ self.feature_projection) * (predictions @ self.prediction_projection) / math.sqrt(self.dim)


def median_heuristic(squared_distances: torch.Tensor) -> torch.Tensor:
    """γ = the median of the positive squared distances, detached so a bandwidth is never trained."""
    positive = squared_distances.detach()
    return positive[positive > 0].median().clamp_min(1e-6)


def gaussian_kernels(x: torch.Tensor, y: torch.Tensor,
                     scales: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)) -> torch.Tensor:
    """Σ_u k_u(x_i, y_j) / m for Gaussian kernels k_u = exp(−‖x−y‖² / (s_u γ)) over the pooled rows of
    ``x`` and ``y``, γ from ``median_heuristic``."""
    pooled = torch.cat([x, y])
    distances = torch.cdist(pooled, pooled).pow(2)
    bandwidth = median_heuristic(distances)
    return sum(torch.exp(-distances / (scale * bandwidth)) for scale in scales) / len(scales)


def mmd(kernel: torch.Tensor, n: int) -> torch.Tensor:
    """MMD² from the kernel matrix of pooled rows, the first ``n`` from one domain (quadratic-time
    biased estimate): E k(x, x') + E k(y, y') − 2 E k(x, y)."""
    return kernel[:n, :n].mean() + kernel[n:, n:].mean() - 2 * kernel[:n, n:].mean()


def mk_mmd(x: torch.Tensor, y: torch.Tensor, scales: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)) -> torch.Tensor:
    """MK-MMD² between the rows of ``x`` and ``y`` with equally weighted Gaussian kernels (DAN); near 0
    when both come from one distribution."""
    return mmd(gaussian_kernels(x, y, scales), len(x))


def jmmd(source: list[torch.Tensor], target: list[torch.Tensor],
         scales: list[tuple[float, ...]]) -> torch.Tensor:
    """Joint MMD² of JAN (Long et al., ICML 2017, eq. 10): the MMD of the joint distribution of
    several layers, its kernel the product over layers l of ``gaussian_kernels`` with ``scales[l]``."""
    kernel = math.prod(gaussian_kernels(s, t, layer_scales) for s, t, layer_scales in zip(source, target, scales))
    return mmd(kernel, len(source[0]))


def coral(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """‖C_s − C_t‖²_F / (4 d²), C the covariance of each batch's d-dimensional rows (Sun & Saenko)."""
    d = source.shape[1]
    return (torch.cov(source.T) - torch.cov(target.T)).pow(2).sum() / (4 * d * d)


@dataclass
class Forward:
    """A labeled source batch and an unlabeled target batch through one network, one forward pass."""

    labels: torch.Tensor
    source_features: torch.Tensor
    target_features: torch.Tensor
    source_logits: torch.Tensor
    target_logits: torch.Tensor

    @property
    def classification(self) -> torch.Tensor:
        """The source cross-entropy every UDA method keeps."""
        return F.cross_entropy(self.source_logits, self.labels)


def forward_source_and_target(network: Network, batch: Batch) -> Forward:
    """Source and target images in one batch, so batch norm normalizes them together as in the
    reference implementations; features and logits split back by domain."""
    (images, labels), target = batch.source, batch.unlabeled
    features = network.features(torch.cat([images, target]))
    logits = network.head(features)
    n = len(images)
    return Forward(labels, features[:n], features[n:], logits[:n], logits[n:])


class AdaptationMethod(TransferMethod):
    """Base of unsupervised domain adaptation methods: in ``uda``, from the shared source model, each
    step a labeled source batch and an unlabeled target batch (``forward_source_and_target``)."""

    family = "domain adaptation"
    settings = frozenset({Setting.UDA})
    init = "source"
    uses_source_data = True
    uses_unlabeled_target = True


BATCH_NORM = (nn.modules.batchnorm._BatchNorm,)   # BatchNorm1d/2d/3d, SyncBatchNorm and timm's subclasses


def batch_norm_layers(network: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """The batch-norm layers of ``network``, in the order of ``modules()``."""
    return [module for module in network.modules() if isinstance(module, BATCH_NORM)]


@torch.no_grad()
def reestimate_batch_norm(network: nn.Module, batches: Iterable[torch.Tensor]) -> None:
    """AdaBN (Li et al.): each batch-norm layer's running mean and variance become the mean and
    variance of its inputs over every image of ``batches``, summed exactly over the batches (in
    float64); every other weight stays. While they are summed, each layer normalizes by the batch's
    own statistics and dropout is off."""
    layers, sums = batch_norm_layers(network), {}

    def record(layer, inputs, _output):
        x = inputs[0].transpose(0, 1).flatten(1).double()   # channels × values
        count, total, squares = sums.get(layer, (0, 0.0, 0.0))
        sums[layer] = (count + x.shape[1], total + x.sum(1), squares + (x * x).sum(1))

    was_training = network.training
    network.eval()
    hooks = [layer.register_forward_hook(record) for layer in layers]
    for layer in layers:
        layer.train()
    try:
        for x in batches:
            network(x)
    finally:
        for hook in hooks:
            hook.remove()
        network.train(was_training)
    for layer, (count, total, squares) in sums.items():
        mean = total / count
        layer.running_mean.copy_(mean)
        layer.running_var.copy_((squares / count - mean * mean) * count / max(count - 1, 1))


def normalize_by_batch(network: nn.Module) -> list[nn.Parameter]:
    """TENT's configuration (Wang et al.): every batch-norm layer drops its running statistics, so it
    normalizes each batch by the batch's own, in training and in prediction alike; only its affine
    scale and shift stay trainable. Returns those parameters."""
    network.requires_grad_(False)
    for layer in batch_norm_layers(network):
        layer.track_running_stats, layer.running_mean, layer.running_var = False, None, None
        layer.requires_grad_(True)
    return [p for p in network.parameters() if p.requires_grad]
