"""DANN: domain-adversarial training of the features through a gradient reversal layer."""
import torch

import tlarena
from tlarena.adaptation import (AdaptationMethod, DomainDiscriminator, domain_adversarial_loss,
                                forward_source_and_target, reversal_schedule, reverse_gradient)


class DANN(AdaptationMethod):
    """Domain-adversarial neural network.

    Paper: Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR 17(59), 2016, eq. 18
    (the saddle point) trained through the gradient reversal layer R of section 5.2:
        L = CE(C(f(x_s)), y_s) + λ · BCE(D(R_λp(f(x))), domain),
    R the identity whose backward pass multiplies the gradient by −λ_p, with the paper's schedule
    λ_p = 2 / (1 + exp(−10 p)) − 1 (p = ``self.progress.p``). Source and target go through the
    network in one batch. Paper defaults: λ = 1 (the weight on the domain loss), γ = 10, a domain
    classifier of two hidden layers of 1024 units (its deep-feature architecture), SGD with
    momentum 0.9.
    Deviations: starts from the shared source model (the paper trains from ImageNet / scratch); the
    learning rate follows the harness's schedule, not the paper's μ_p = μ_0 / (1 + 10 p)^0.75; the
    discriminator has the network's learning rate (no ×10 for new layers).
    """

    name = "dann"
    paper = "Ganin et al., 'Domain-Adversarial Training of Neural Networks', JMLR 2016"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "trade_off": 1.0, "discriminator_width": 1024}
    search_space = {"lr": ("log", 1e-3, 0.05), "trade_off": ("log", 0.1, 1.0),
                    "discriminator_width": [256, 1024]}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        self.discriminator = DomainDiscriminator(network.feature_dim, hparams["discriminator_width"])

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        out = forward_source_and_target(self.network, batch)
        coefficient = reversal_schedule(self.progress.p)
        features = reverse_gradient(torch.cat([out.source_features, out.target_features]), coefficient)
        n = len(out.source_features)
        adversarial = domain_adversarial_loss(self.discriminator, features[:n], features[n:])
        return out.classification + self.hp["trade_off"] * adversarial
