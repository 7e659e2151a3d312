"""Shared pieces of domain-generalization methods, written once and public for any plugin to import.

``GeneralizationMethod``, the base of methods that learn from several labeled source domains pooled
and see no target data (the ``dg`` setting); the per-domain losses of a pooled batch and GroupDRO's
weights over them; DomainBed's mean-and-covariance distance between domains; and MixStyle's mixing
of feature statistics across domains, hooked onto a network's early stages. Each is the math of one
equation; the methods in ``tlarena_plugins.methods`` cite where it comes from.
"""
from __future__ import annotations

from contextlib import contextmanager
from itertools import combinations
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from tlarena.methods import Network, TransferMethod
from tlarena.parameter_transfer import stages
from tlarena.settings import Setting


class GeneralizationMethod(TransferMethod):
    """Base of domain-generalization methods: in ``dg`` only, each step a labeled batch drawn from the
    pooled source domains (``batch.source``, each image's domain in ``batch.source_domains``), no
    target data at all.

    Every one starts from the backbone's weights and trains for the method's steps, as in DomainBed,
    where each algorithm, ERM included, starts from the same ImageNet weights: the comparison is then
    at an equal budget. Starting from the shared source model would hand each method a pooled-ERM
    model trained for ``source_steps`` first, ERM's own answer.
    """

    family = "domain generalization"
    settings = frozenset({Setting.DG})
    init = "backbone"
    uses_source_data = True


def domain_groups(domains: torch.Tensor) -> list[tuple[int, torch.Tensor]]:
    """(domain, the rows of that domain) for each domain present in the batch, in domain order."""
    return [(int(d), (domains == d).nonzero(as_tuple=True)[0]) for d in torch.unique(domains)]


def per_domain_losses(logits: torch.Tensor, labels: torch.Tensor,
                      domains: torch.Tensor) -> tuple[list[int], torch.Tensor]:
    """The mean cross-entropy of each domain present in the batch: (domains, losses)."""
    losses = F.cross_entropy(logits, labels, reduction="none")
    groups = domain_groups(domains)
    return [d for d, _ in groups], torch.stack([losses[rows].mean() for _, rows in groups])


def group_dro_weights(q: torch.Tensor, losses: torch.Tensor, eta: float) -> torch.Tensor:
    """One exponentiated-gradient step of GroupDRO (Sagawa et al., ICLR 2020, algorithm 1):
    q_g ← q_g · exp(η ℓ_g), then normalized to sum 1; the domains with the larger loss gain weight."""
    q = q * torch.exp(eta * losses.detach())
    return q / q.sum()


def mean_covariance_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """DomainBed's CORAL penalty between two domains' features (its ``mmd`` with the ``mean_cov``
    kernel): the mean over entries of (μ_x − μ_y)² plus the mean over entries of (C_x − C_y)², μ the
    feature means and C the (unbiased) covariances; 0 for identically distributed rows."""
    mean = (x.mean(0) - y.mean(0)).pow(2).mean()
    return mean + (torch.cov(x.T) - torch.cov(y.T)).pow(2).mean()


def pairwise_alignment(features: torch.Tensor, domains: torch.Tensor) -> torch.Tensor:
    """``mean_covariance_distance`` averaged over every pair of domains in the batch that has at
    least two rows each (a covariance needs two); 0 when fewer than two such domains are present."""
    groups = [features[rows] for _, rows in domain_groups(domains) if len(rows) > 1]
    pairs = [mean_covariance_distance(a, b) for a, b in combinations(groups, 2)]
    return torch.stack(pairs).mean() if pairs else features.sum() * 0.0


def cross_domain_partners(domains: torch.Tensor) -> torch.Tensor:
    """For each row, a random row of another domain (torch's seeded generator); a row whose domain is
    the only one in the batch is its own partner."""
    scores = torch.rand(len(domains), len(domains)).to(domains.device)
    scores = scores.masked_fill(domains[:, None] == domains[None, :], -1.0)
    partners = scores.argmax(1)
    alone = scores.max(1).values < 0
    return torch.where(alone, torch.arange(len(domains), device=domains.device), partners)


def mix_statistics(x: torch.Tensor, partners: torch.Tensor, mix: torch.Tensor,
                   eps: float = 1e-6) -> torch.Tensor:
    """MixStyle (Zhou et al., ICLR 2021, eq. 3–5): each image's feature map normalized by its own
    channel means μ and standard deviations σ (over the spatial positions), then given the mixed
    statistics γ = λ σ + (1 − λ) σ[partner], β = λ μ + (1 − λ) μ[partner]; ``mix`` is λ per row.
    The statistics are detached, as in the paper's code, so no gradient flows through them."""
    mu = x.mean((2, 3), keepdim=True).detach()
    sigma = (x.var((2, 3), keepdim=True) + eps).sqrt().detach()
    lam = mix.view(-1, 1, 1, 1).to(x)
    mixed_mu = lam * mu + (1 - lam) * mu[partners]
    mixed_sigma = lam * sigma + (1 - lam) * sigma[partners]
    return (x - mu) / sigma * mixed_sigma + mixed_mu


class MixStyleLayers:
    """MixStyle after the network's early stages: every stage but the last of those that give a
    feature map (``tlarena.parameter_transfer.stages``; ResNet: layer1–3, the paper's choice for
    classification; LeNet: conv1). It mixes only inside ``mixing(domains)``, i.e. while a training
    step runs, so prediction is untouched; each hooked stage mixes a batch with probability ``p``,
    λ ~ Beta(α, α) per image, partners from other domains (``cross_domain_partners``)."""

    def __init__(self, network: Network, p: float = 0.5, alpha: float = 0.1):
        named = dict(network.model.named_modules())
        maps = [name for name in stages(network.model) if not isinstance(named[name], nn.Linear)]
        self.layers = maps[:-1]
        self.p, self.beta = p, torch.distributions.Beta(torch.tensor(alpha), torch.tensor(alpha))
        self._domains: torch.Tensor | None = None
        for name in self.layers:
            named[name].register_forward_hook(self._mix)

    def _mix(self, _module, _inputs, output: torch.Tensor) -> torch.Tensor | None:
        if self._domains is None or output.ndim != 4 or torch.rand(()).item() >= self.p:
            return None
        partners = cross_domain_partners(self._domains)
        return mix_statistics(output, partners, self.beta.sample((len(output),)))

    @contextmanager
    def mixing(self, domains: torch.Tensor) -> Iterator[None]:
        self._domains = domains
        try:
            yield
        finally:
            self._domains = None
