"""Scratch: random initialization trained on target labels only (random parameter transfer)."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting


class Scratch(tlarena.TransferMethod):
    """The no-transfer reference: what the target labels alone achieve.

    Paper: Pan & Yang, "A Survey on Transfer Learning", IEEE TKDE 2010 — the baseline every transfer
    method must beat; in the taxonomy, parameter transfer with random initialization.
    """

    name = "scratch"
    family = "parameter transfer"
    paper = "Pan & Yang, 'A Survey on Transfer Learning', IEEE TKDE 2010"
    settings = frozenset({Setting.FEW_SHOT, Setting.SUPERVISED, Setting.TASK})
    init = "random"
    hparams = {"lr": 0.05, "weight_decay": 5e-4}   # random init wants a larger rate than fine-tuning
    search_space = {"lr": ("log", 1e-3, 0.3)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.target
        return F.cross_entropy(self.network(images), labels)
