"""MixStyle: feature statistics mixed between images of different source domains while training."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena.generalization import GeneralizationMethod, MixStyleLayers


class MixStyle(GeneralizationMethod):
    """Domain generalization by mixing instance-level feature statistics.

    Paper: Zhou et al., "Domain Generalization with MixStyle", ICLR 2021, eq. 3–5. After each early
    stage, a feature map x of an image and that of a partner image x' of another domain become
        MixStyle(x) = γ_mix (x − μ(x)) / σ(x) + β_mix,
        γ_mix = λ σ(x) + (1 − λ) σ(x'),  β_mix = λ μ(x) + (1 − λ) μ(x'),  λ ~ Beta(α, α),
    μ, σ the per-channel mean and standard deviation over spatial positions (detached); then
        L = CE(C(f_mix(x)), y)   on the pooled source batch.
    Paper defaults: α = 0.1, p = 0.5 (each hooked stage mixes a batch with probability p), after
    ResNet's res1–3 for classification, only while training (identity at test time).
    Deviations: the stages are found generically (``MixStyleLayers``: every stage that gives a feature
    map, but the last; ResNet: res1–3 as in the paper, LeNet: its first convolution); partners are
    any image of another domain in the pooled batch, drawn per image (the paper's "domain label"
    variant pairs two domains' halves of a batch); starts from the backbone's weights with the
    harness's optimizer and budget (see ``GeneralizationMethod``).
    """

    name = "mixstyle"
    paper = "Zhou et al., 'Domain Generalization with MixStyle', ICLR 2021"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "p": 0.5, "alpha": 0.1}
    search_space = {"lr": ("log", 1e-3, 0.1), "p": ("uniform", 0.3, 0.9), "alpha": [0.1, 0.2, 0.3]}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        self.mixstyle = MixStyleLayers(network, p=hparams["p"], alpha=hparams["alpha"])

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.source
        with self.mixstyle.mixing(batch.source_domains):
            logits = self.network(images)
        return F.cross_entropy(logits, labels)
