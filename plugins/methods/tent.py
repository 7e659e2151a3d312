"""TENT: test-time entropy minimization over the batch-norm scales and shifts."""
import torch

import tlarena
from tlarena import Setting
from tlarena.adaptation import BATCH_NORM, entropy, normalize_by_batch


class TENT(tlarena.TransferMethod):
    """Test-time entropy minimization.

    Paper: Wang et al., "Tent: Fully Test-Time Adaptation by Entropy Minimization", ICLR 2021,
    section 3. On each test batch x, every batch-norm layer normalizes by the batch's own statistics
    (μ, σ estimated on x), the prediction ŷ is scored, then one step descends
        L = (1/B) Σ_b H(ŷ_b),   H(ŷ) = −Σ_c p(ŷ_c) log p(ŷ_c),
    over the batch-norm modulation parameters (scales γ, shifts β) alone; every other parameter
    stays the source model's. The model keeps adapting from batch to batch (online, no reset).
    Paper defaults: SGD with momentum 0.9 at rate 0.00025 on batches of 64 (ImageNet), Adam at
    0.001 on batches of 128 (CIFAR).
    Deviations: the harness's SGD (Nesterov momentum 0.9, gradient clipping, constant rate) at rate
    0.001 on the harness's batches, not Adam; dropout stays off while adapting (the paper's ResNets
    have none). On a backbone without batch norm (``lenet``) there is nothing to modulate
    and its cells are n/a.
    """

    name = "tent"
    family = "test-time adaptation"
    paper = "Wang et al., 'Tent: Fully Test-Time Adaptation by Entropy Minimization', ICLR 2021"
    settings = frozenset({Setting.TEST_TIME})
    init = "source"
    requires_layers = BATCH_NORM
    hparams = {"lr": 0.001, "weight_decay": 0.0}
    search_space = {"lr": ("log", 1e-4, 1e-2)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        normalize_by_batch(network)

    def train(self, mode: bool = True):
        # Batch norm without running statistics normalizes by the batch in either mode; dropout stays off.
        return super().train(False)

    def adapt(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.network(x)
        return logits, entropy(logits.float().softmax(1)).mean()
