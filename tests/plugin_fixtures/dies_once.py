"""A method whose process dies in its first run and not after: a worker lost mid-run, then retried."""
import os
import signal

import torch

import tlarena
from tlarena import Setting


class DiesOnce(tlarena.TransferMethod):
    """Kills its own process (SIGKILL) in its first step, the first time only ($DIES_ONCE_MARK
    remembers): the worker is lost mid-run, as when a node goes down, and a retry succeeds."""

    name = "dies-once"
    family = "parameter transfer"
    paper = "none: a fault-injection fixture"
    settings = frozenset({Setting.SUPERVISED, Setting.FEW_SHOT})

    def training_step(self, batch):
        mark = os.environ["DIES_ONCE_MARK"]
        if not os.path.exists(mark):
            open(mark, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        images, labels = batch.target
        return torch.nn.functional.cross_entropy(self.network(images), labels)


@tlarena.hookimpl
def register_methods(register):
    register(DiesOnce)
