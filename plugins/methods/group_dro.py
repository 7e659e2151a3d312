"""GroupDRO: the pooled loss reweighted toward the worst source domain."""
import torch

import tlarena
from tlarena.generalization import GeneralizationMethod, group_dro_weights, per_domain_losses


class GroupDRO(GeneralizationMethod):
    """Group distributionally robust optimization over the source domains.

    Paper: Sagawa et al., "Distributionally Robust Neural Networks for Group Shifts", ICLR 2020,
    algorithm 1, as DomainBed runs it (Gulrajani & Lopez-Paz, ICLR 2021): each step, with ℓ_g the
    mean cross-entropy of domain g's images in the batch,
        q_g ← q_g · exp(η ℓ_g),  q ← q / Σ_g q_g,   L = Σ_g q_g ℓ_g,
    q starting uniform and kept across steps (a buffer). Defaults as in DomainBed: η = 0.01
    (``groupdro_eta``, searched in 10^[−3, −1]), Adam lr 5e-5, batch 32 per domain.
    Deviations: one batch drawn from the pooled domains, so a domain may be absent from a step
    (its q_g is then neither raised nor used in L, only renormalized with the others); q grows as
    domains first appear (a new one starts at 1/K of the mass); starts from the backbone's weights
    with the harness's optimizer and budget (see ``GeneralizationMethod``).
    """

    name = "group-dro"
    paper = "Sagawa et al., 'Distributionally Robust Neural Networks for Group Shifts', ICLR 2020"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "eta": 0.01}
    search_space = {"lr": ("log", 1e-3, 0.1), "eta": ("log", 1e-3, 0.1)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        self.register_buffer("q", torch.ones(0))

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.source
        present, losses = per_domain_losses(self.network(images), labels, batch.source_domains)
        self._grow(max(present) + 1)
        observed = torch.zeros_like(self.q)     # an absent domain's exponent is 0: it is not raised
        observed[present] = losses.detach()
        self.q = group_dro_weights(self.q, observed, self.hp["eta"])
        return (self.q[present] * losses).sum()

    def _grow(self, domains: int) -> None:
        if len(self.q) < domains:
            new = torch.full((domains - len(self.q),), 1.0 / domains, device=self.q.device)
            self.q = torch.cat([self.q * (1 - len(new) / domains), new])
