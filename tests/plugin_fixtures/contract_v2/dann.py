"""DANN: domain-adversarial training through a gradient reversal layer.

Paper: Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR 17(59), 2016.
min over features and classifier, max over the domain classifier d of
    L = CE(head(f(x_s)), y_s) + λ_p · [BCE(d(R(f(x_s))), 1) + BCE(d(R(f(x_t))), 0)],
R the identity whose gradient is multiplied by −1, and λ_p = 2 / (1 + exp(−10 p)) − 1 with p the
training progress from 0 to 1 (the paper's schedule, read from ``self.progress``).
Deviations: starts from the shared source model; the domain classifier has one hidden layer of 256
units (the paper: two of 1024); the learning rate follows the harness's schedule, not the paper's
annealing μ_p = μ_0 / (1 + 10 p)^0.75.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

import tlarena
from tlarena import Setting


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


def adaptation_weight(p: float) -> float:
    """λ_p of Ganin et al.: 0 at the start, close to 1 at the end, so early noisy domain gradients
    do not swamp the classifier."""
    return 2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0


class DANN(tlarena.TransferMethod):
    name = "dann-fixture"
    family = "domain adaptation"
    paper = "Ganin et al., 'Domain-Adversarial Training of Neural Networks', JMLR 2016"
    settings = frozenset({Setting.UDA})
    init = "source"
    uses_source_data = True
    uses_unlabeled_target = True
    hparams = {"lr": 0.01, "weight_decay": 5e-4}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        self.domain = nn.Sequential(nn.Linear(network.feature_dim, 256), nn.ReLU(), nn.Linear(256, 1))

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        (images, labels), target = batch.source, batch.unlabeled
        features = self.network.features(torch.cat([images, target]))
        classification = F.cross_entropy(self.network.head(features[: len(images)]), labels)
        domains = torch.cat([torch.ones(len(images)), torch.zeros(len(target))]).to(features.device)
        logits = self.domain(_Reverse.apply(features)).squeeze(1)
        return classification + adaptation_weight(self.progress.p) * F.binary_cross_entropy_with_logits(logits, domains)
