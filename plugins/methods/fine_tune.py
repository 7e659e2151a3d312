"""Fine-tune: the source model, all of it, trained further on target labels."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting


class FineTune(tlarena.TransferMethod):
    """Fine-tuned parameter transfer: start from the source weights, update every layer.

    Paper: Yosinski et al., "How transferable are features in deep neural networks?", NeurIPS 2014.
    The head is kept when source and target share labels and replaced (by the harness) when they do
    not. Deviation: no layer-wise learning rates; one rate for the whole network.
    """

    name = "fine-tune"
    family = "parameter transfer"
    paper = "Yosinski et al., 'How transferable are features in deep neural networks?', NeurIPS 2014"
    settings = frozenset({Setting.FEW_SHOT, Setting.SUPERVISED, Setting.TASK})
    init = "source"
    hparams = {"lr": 0.01, "weight_decay": 5e-4}
    search_space = {"lr": ("log", 1e-4, 0.1)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.target
        return F.cross_entropy(self.network(images), labels)
