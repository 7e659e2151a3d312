"""Methods that fail on purpose: they raise, make the loss NaN, exit, crash or hang in their step."""
import ctypes
import os
import sys
import time

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


class _Hostile(tlarena.TransferMethod):
    family = "parameter transfer"
    paper = "none: a fault-injection fixture"
    settings = frozenset({Setting.SUPERVISED, Setting.FEW_SHOT})


class ExitsInStep(_Hostile):
    """Calls sys.exit(3) in its step: SystemExit is no Exception, so only a worker process contains it."""

    name = "exits-in-step"

    def training_step(self, batch):
        sys.exit(3)


class CrashesInStep(_Hostile):
    """Dereferences a null pointer: the interpreter itself dies (SIGSEGV)."""

    name = "crashes-in-step"

    def training_step(self, batch):
        ctypes.string_at(0)


class HangsInStep(_Hostile):
    """Never returns from its step."""

    name = "hangs-in-step"

    def training_step(self, batch):
        while True:
            time.sleep(1)


@tlarena.hookimpl
def register_methods(register):
    for method in (RaisesInStep, NanLoss, ExitsInStep, CrashesInStep, HangsInStep):
        register(method)
