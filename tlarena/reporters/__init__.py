"""Reporters: plugins on the ``run_finished`` hook that send each finished run to a tracking service.

``tlarena run --report mlflow`` (or ``TLARENA_REPORT=mlflow``) loads one like any ``--plugin``
module, in the grid's process and in each worker. Each is an optional extra
(``pip install 'tlarena[mlflow]'``, ``'tlarena[wandb]'``). A reporter logs a run's spec as
parameters, its metrics and cost as metrics, and its learning curve as a series over steps; the
flattening below is shared, so every service sees the same names.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import asdict

from tlarena.records import RunRecord
from tlarena.usage import UsageError, csv_items

REPORT_ENV = "TLARENA_REPORT"
# name → (the plugin module, the package it needs, the extra that installs it)
REPORTERS = {"mlflow": ("tlarena.reporters.mlflow_reporter", "mlflow"),
             "wandb": ("tlarena.reporters.wandb_reporter", "wandb")}


def reporter_modules(given: list[str] | None) -> list[str]:
    """The plugin modules of ``--report`` (else ``$TLARENA_REPORT``): comma-separated names, each
    checked here so a typo or a missing package stops the grid before it starts."""
    items = given if given else [os.environ.get(REPORT_ENV, "")]
    names = [name for item in items if item.strip() for name in csv_items(item)]
    modules = []
    for name in dict.fromkeys(names):
        if name not in REPORTERS:
            raise UsageError(f"unknown reporter {name!r}; choose from {', '.join(REPORTERS)}")
        module, package = REPORTERS[name]
        if importlib.util.find_spec(package) is None:
            raise UsageError(f"--report {name} needs {package}: pip install 'tlarena[{name}]'")
        modules.append(module)
    return modules


def run_name(record: RunRecord) -> str:
    return record.spec.label().replace(" · ", " ")


def params(record: RunRecord) -> dict[str, object]:
    """The spec, flat: ``method``, ``budget.steps``, ``hparams.lr``, … and the run's key and status."""
    spec = record.spec.to_dict()
    flat: dict[str, object] = {"key": record.key, "status": record.status}
    for name, value in spec.items():
        if isinstance(value, dict) and name in ("budget", "hparams"):
            flat.update({f"{name}.{inner}": v for inner, v in value.items() if v is not None})
        elif not isinstance(value, dict):
            flat[name] = value
    return flat


def metrics(record: RunRecord) -> dict[str, float]:
    """Every number of the metrics, validation, cost and shared-cost blocks, named ``block.field``."""
    flat: dict[str, float] = {}
    for block in ("metrics", "validation", "cost", "shared_cost"):
        values = getattr(record, block)
        if values is None:
            continue
        for name, value in asdict(values).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
                flat[f"{block}.{name}"] = float(value)
    return flat


def curve(record: RunRecord) -> list[tuple[int, dict[str, float]]]:
    """The learning curve: (step, its values) at each evaluation."""
    return [(point.step, {"curve.top1": point.top1, "curve.mean_class_acc": point.mean_class_acc,
                          "curve.seconds": point.seconds, "curve.flops": point.flops})
            for point in record.curve]
