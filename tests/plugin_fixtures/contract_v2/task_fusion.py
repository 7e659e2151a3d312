"""Two-head task fusion: one shared feature extractor, the source head kept, a new target head.

Paper: Li & Hoiem, "Learning without Forgetting", IEEE TPAMI 40(12), 2018 (ECCV 2016). The source
head h_o and a new head h_n share the features f; on target images x with labels y,
    L = CE(h_n(f(x)), y) + λ · T² · KL(softmax(y_o / T) ‖ softmax(h_o(f(x)) / T)),
y_o the source model's responses, T = 2, λ = 1: the source task is kept while the target is learned.
The method keeps the source head (``keeps_source_head``), so the harness does not replace it.
Deviations: y_o comes from a frozen copy of the source model at each step instead of being recorded
once before training (the same values, since the images are not augmented differently); no
warm-up phase that trains the new head alone first.
"""
import copy

import torch
import torch.nn.functional as F
from torch import nn

import tlarena
from tlarena import Setting


class TwoHeadFusion(tlarena.TransferMethod):
    name = "two-head-fusion"
    family = "task transfer"
    paper = "Li & Hoiem, 'Learning without Forgetting', IEEE TPAMI 2018"
    settings = frozenset({Setting.TASK})
    init = "source"
    keeps_source_head = True
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "distill_weight": 1.0, "temperature": 2.0}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        self.target_head = nn.Linear(network.feature_dim, num_classes)
        self.original = copy.deepcopy(network).requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self.original.eval()
        return self

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.target
        features = self.network.features(images)
        new_task = F.cross_entropy(self.target_head(features), labels)
        t = self.hp["temperature"]
        with torch.no_grad():
            recorded = (self.original(images) / t).softmax(1)
        kept = F.kl_div((self.network.head(features) / t).log_softmax(1), recorded, reduction="batchmean")
        return new_task + self.hp["distill_weight"] * t * t * kept

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.target_head(self.network.features(x))
