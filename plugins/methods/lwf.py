"""Learning without Forgetting: a new head for the target task, the source head's responses kept."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena.feature_transfer import FeatureTable
from tlarena.parameter_transfer import frozen_features
from tlarena.task_transfer import Frozen, SourceAndTargetHeads, distillation


class LwF(SourceAndTargetHeads):
    """Learn the target task with a new head while the source head keeps answering as it did, on the
    target images alone (no source data).

    Paper: Li & Hoiem, "Learning without Forgetting", IEEE TPAMI 40(12), 2018 (ECCV 2016),
    Algorithm 1. With θ_s the shared parameters, θ_o the source (old) head, θ_n the new head, and
    Y_o the responses of the source network to each target image, recorded before training:
        L = λ_o · L_old(Y_o, Ŷ_o) + L_new(Y_n, Ŷ_n) + R(θ_s, θ_o, θ_n),
    L_new the cross-entropy on the target labels, L_old the distillation loss (eq. 2)
        L_old = −Σ_c y'_o,c · log ŷ'_o,c,   y' = softmax(logits / T),
    R the weight decay (the harness's, 5e-4 as in the paper). Paper defaults: T = 2, λ_o = 1, and a
    warm-up that first trains θ_n alone with θ_s and θ_o frozen, then trains all of them jointly.
    Here the warm-up takes the first ``warmup_fraction`` of the steps (default ¼), on the features
    of the source network in evaluation mode; the rest is the joint loss above.
    Deviations: each target image's Y_o is computed the first time the image is drawn, by a frozen
    copy of the network as it was before training, and kept for every later draw: the values the
    paper records before training (with a pair that augments its images, those of the image's first
    drawn augmentation). The warm-up and the joint stage share one budget and the harness's SGD
    schedule (the paper trains each to convergence and lowers the rate in between).
    """

    name = "lwf"
    paper = "Li & Hoiem, 'Learning without Forgetting', IEEE TPAMI 2018"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "old_task_weight": 1.0, "temperature": 2.0,
               "warmup_fraction": 0.25}
    search_space = {"lr": ("log", 1e-4, 0.1), "old_task_weight": ("log", 0.1, 10.0),
                    "warmup_fraction": ("uniform", 0.0, 0.5)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        self.original = Frozen(network)
        self.recorded = FeatureTable(self.original)   # Y_o of each target image, by its row

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.target
        if self.progress.p <= self.hp["warmup_fraction"]:
            return F.cross_entropy(self.target_head(frozen_features(self.network, images)), labels)
        old, new = self.heads(images)
        kept = distillation(old, self.recorded(images, batch.rows["target"]), self.hp["temperature"])
        return F.cross_entropy(new, labels) + self.hp["old_task_weight"] * kept
