"""Methods that fail on purpose: one raises in its training step, one makes the loss NaN."""
import torch

import tlarena
from tlarena import Setting


class RaisesInStep(tlarena.TransferMethod):
    """A method whose training step raises: the harness must record the run as failed."""

    name = "raises-in-step"
    family = "parameter transfer"
    paper = "none: a fault-injection fixture"
    settings = frozenset({Setting.SUPERVISED, Setting.FEW_SHOT})

    def training_step(self, batch):
        raise ValueError("training step exploded")


class NanLoss(tlarena.TransferMethod):
    """A method whose loss becomes NaN: the harness must record the run as diverged."""

    name = "nan-loss"
    family = "parameter transfer"
    paper = "none: a fault-injection fixture"
    settings = frozenset({Setting.SUPERVISED, Setting.FEW_SHOT})

    def training_step(self, batch):
        images, labels = batch.target
        loss = torch.nn.functional.cross_entropy(self.network(images), labels)
        return loss * float("nan")


@tlarena.hookimpl
def register_methods(register):
    register(RaisesInStep)
    register(NanLoss)
