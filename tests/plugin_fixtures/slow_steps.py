"""Methods whose steps take a known time (a sleep each), so a kill at a random moment lands mid-run
without training for long: one starts from the shared source model, one from random weights."""
import time

import torch

import tlarena
from tlarena import Setting

STEP_SECONDS = 0.05


class _Slow(tlarena.TransferMethod):
    family = "parameter transfer"
    paper = "none: a fixture whose steps sleep"
    settings = frozenset({Setting.SUPERVISED, Setting.FEW_SHOT})

    def training_step(self, batch):
        time.sleep(STEP_SECONDS)
        images, labels = batch.target
        return torch.nn.functional.cross_entropy(self.network(images), labels)


class SlowFineTune(_Slow):
    name = "slow-fine-tune"
    init = "source"


class SlowScratch(_Slow):
    name = "slow-scratch"
    init = "random"


@tlarena.hookimpl
def register_methods(register):
    register(SlowFineTune)
    register(SlowScratch)
