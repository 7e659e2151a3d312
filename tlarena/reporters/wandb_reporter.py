"""Each finished run as a Weights & Biases run in project ``$WANDB_PROJECT`` (default ``tlarena``).
W&B's own variables apply: ``WANDB_MODE=offline`` writes under ``$WANDB_DIR`` for a later
``wandb sync``. The config is the run's spec; the summary its metrics; the learning curve is
logged as ``curve.*`` against the training step.
"""
from __future__ import annotations

import os

import wandb

import tlarena
from tlarena.reporters import curve, metrics, params, run_name


@tlarena.hookimpl
def run_finished(record):
    run = wandb.init(project=os.environ.get("WANDB_PROJECT", "tlarena"), name=run_name(record),
                     config=params(record), tags=[record.status], reinit=True)
    try:
        run.define_metric("curve.*", step_metric="step")
        for step, values in curve(record):
            run.log({"step": step, **values})
        run.summary.update(metrics(record))
    finally:
        run.finish(exit_code=0 if record.status in ("ok", "n/a") else 1)
