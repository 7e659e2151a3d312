"""Accuracy and convergence: what a learning curve says about a run."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONVERGED_FRACTION = 0.95   # "converged" = reached 95 % of the run's final accuracy


@dataclass(frozen=True)
class CurvePoint:
    """The target test accuracy at one evaluation, with the cost spent to get there."""

    step: int
    samples: int
    seconds: float      # training wall time so far, evaluation excluded
    flops: float        # training FLOPs so far
    top1: float
    mean_class_acc: float


def top1(predictions: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predictions == labels)) if len(labels) else float("nan")


def mean_class_accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy averaged over the classes present in ``labels`` (robust to class imbalance)."""
    classes = np.unique(labels)
    return float(np.mean([np.mean(predictions[labels == c] == c) for c in classes]))


def convergence(curve: list[CurvePoint]) -> dict[str, float | int | None]:
    """Steps, samples, seconds and FLOPs to reach 95 % of the final accuracy; normalized AUC.

    The AUC is the area under top-1 over training steps divided by the step range, so it is the
    mean accuracy over training: 1.0 would be perfect from the first step.
    """
    final = curve[-1].top1
    reached = next(p for p in curve if p.top1 >= CONVERGED_FRACTION * final)
    steps = np.array([p.step for p in curve], dtype=float)
    accuracy = np.array([p.top1 for p in curve])
    if steps[-1] > steps[0]:
        area = np.sum((accuracy[1:] + accuracy[:-1]) / 2 * np.diff(steps))
        auc = float(area / (steps[-1] - steps[0]))
    else:
        auc = float(accuracy[-1])
    return {
        "steps_to_95": reached.step,
        "samples_to_95": reached.samples,
        "seconds_to_95": reached.seconds,
        "flops_to_95": reached.flops,
        "auc": auc,
    }
