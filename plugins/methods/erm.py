"""ERM: cross-entropy on the pooled source domains, the domain-generalization baseline."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena.generalization import GeneralizationMethod


class ERM(GeneralizationMethod):
    """Empirical risk minimization over the pooled source domains.

    Paper: Vapnik, "Statistical Learning Theory", Wiley 1998; as the domain-generalization baseline,
    Gulrajani & Lopez-Paz, "In Search of Lost Domain Generalization", ICLR 2021 (DomainBed), which
    found it within a point or two of every algorithm it tested:
        L = 1/n Σ_i CE(C(f(x_i)), y_i)   over the batch pooled from the source domains.
    DomainBed's defaults: Adam, lr 5e-5, batch 32 per domain, 5,000 steps, from ImageNet weights.
    Deviations: the harness's optimizer (SGD, Nesterov momentum, warm-up then cosine) and its
    learning rate and budget instead of Adam's; one batch drawn from the pooled domains, so each
    domain's share of a batch follows its share of the pool (DomainBed draws an equal batch from each
    domain). Starts from the backbone's weights (see ``GeneralizationMethod``), trained for the
    method's steps like every other ``dg`` method, so the comparison is at an equal budget.
    """

    name = "erm"
    paper = "Vapnik, 'Statistical Learning Theory', 1998; Gulrajani & Lopez-Paz, ICLR 2021 (DomainBed)"
    hparams = {"lr": 0.01, "weight_decay": 5e-4}
    search_space = {"lr": ("log", 1e-3, 0.1), "weight_decay": ("log", 1e-6, 1e-2)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.source
        return F.cross_entropy(self.network(images), labels)
