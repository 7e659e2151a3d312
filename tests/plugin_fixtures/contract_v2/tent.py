"""TENT: test-time entropy minimization over the batch-norm affine parameters.

Paper: Wang et al., "Tent: Fully Test-Time Adaptation by Entropy Minimization", ICLR 2021.
On each test batch, batch norm normalizes with the batch's own statistics; the prediction is
scored, then one step minimizes H(ŷ) = −Σ_c p(ŷ_c) log p(ŷ_c) over the scales and shifts of the
batch-norm layers only; every other parameter stays the source model's.
Deviations: the harness's SGD (Nesterov momentum 0.9) at rate 0.001 and gradient clipping, where
the paper uses SGD at 0.00025 for ImageNet and Adam at 0.001 for CIFAR; dropout stays off.
"""
import torch
from torch import nn

import tlarena
from tlarena import Setting


class TENT(tlarena.TransferMethod):
    name = "tent-fixture"
    family = "test-time adaptation"
    paper = "Wang et al., 'Tent: Fully Test-Time Adaptation by Entropy Minimization', ICLR 2021"
    settings = frozenset({Setting.TEST_TIME})
    init = "source"
    hparams = {"lr": 0.001, "weight_decay": 0.0}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        network.requires_grad_(False)
        for module in network.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.track_running_stats, module.running_mean, module.running_var = False, None, None
                module.requires_grad_(True)

    def train(self, mode: bool = True):
        # Without running statistics batch norm always uses the batch's; dropout stays off.
        return super().train(False)

    def adapt(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.network(x)
        entropy = -(logits.softmax(1) * logits.log_softmax(1)).sum(1).mean()
        return logits, entropy
