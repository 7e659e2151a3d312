"""The harness's optimizer policy, the same for every method: SGD with Nesterov momentum over the
method's parameter groups (each with its ``lr_scale``), one learning-rate schedule, and one optimizer
per named update of a step."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch

from tlarena.methods import ContractError, TransferMethod, Update


class UnoptimizedParameters(UserWarning):
    """A method has trainable parameters that no optimizer group holds."""


@dataclass
class OptimizerPlan:
    """What steps one update: its optimizer, schedule and (fp16 only) gradient scaler."""

    update: Update | None      # None: the method's one loss steps every group
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler | None


def lr_factor(step: int, steps: int) -> float:
    """The same schedule for every method: linear warm-up over the first 10 %, then cosine to zero.

    The warm-up keeps large rates on randomly initialized networks from collapsing in the first steps.
    """
    warmup = max(1, steps // 10)
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * min(step - warmup, steps - warmup) / max(steps - warmup, 1)))


def build_optimizers(method: TransferMethod, steps: int, scaled: bool, schedule: bool = True) -> list[OptimizerPlan]:
    """One plan per declared update (one for all when none is declared), over the named parameter
    groups; ``schedule=False`` keeps the rate constant. Warns about trainable modules no group holds,
    since they would never learn."""
    hp = method.hp
    groups = []
    for group in method.parameter_groups():
        group = dict(group)
        group["params"] = list(group["params"])
        group["lr"] = hp["lr"] * group.pop("lr_scale", 1.0)
        groups.append(group)
    _warn_unoptimized(method, groups)
    plans = []
    for update in method.updates or (Update("loss", ()),):
        chosen = [g for g in groups if not update.groups or g.get("name") in update.groups]
        missing = set(update.groups) - {g.get("name") for g in chosen}
        if missing:
            raise ContractError(f"method {method.name!r}: update {update.name!r} steps parameter "
                                f"groups {sorted(missing)} that parameter_groups() does not name")
        optimizer = torch.optim.SGD([{k: v for k, v in g.items() if k != "name"} for g in chosen],
                                    lr=hp["lr"], momentum=hp.get("momentum", 0.9),
                                    weight_decay=hp.get("weight_decay", 0.0), nesterov=True)
        factor = (lambda s: lr_factor(s, steps)) if schedule else (lambda s: 1.0)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        scaler = torch.amp.GradScaler("cuda") if scaled else None
        plans.append(OptimizerPlan(update if method.updates else None, optimizer, scheduler, scaler))
    return plans


def stepped_parameters(plans: list[OptimizerPlan]) -> int:
    """Parameters the optimizers step, each counted once: a method's trainable parameters."""
    params = {id(p): p for plan in plans for group in plan.optimizer.param_groups for p in group["params"]}
    return sum(p.numel() for p in params.values())


def _warn_unoptimized(method: TransferMethod, groups: list[dict]) -> None:
    stepped = {id(p) for group in groups for p in group["params"]}
    modules = sorted({name.rpartition(".")[0] or name for name, p in method.named_parameters()
                      if p.requires_grad and id(p) not in stepped})
    if modules:
        warnings.warn(f"method {method.name!r}: trainable parameters of {', '.join(modules)} are in no "
                      f"optimizer group, so they never train; add them to parameter_groups() or freeze "
                      f"them (requires_grad_(False))", UnoptimizedParameters, stacklevel=4)
