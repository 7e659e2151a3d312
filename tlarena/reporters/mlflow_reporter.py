"""Each finished run as an MLflow run, in the experiment ``$TLARENA_MLFLOW_EXPERIMENT`` (default
``tlarena``) of the tracking server or store ``$MLFLOW_TRACKING_URI`` names (MLflow's default:
``./mlruns``). The run's parameters are its spec; its metrics the record's numbers; the learning
curve is logged as ``curve.*`` at each evaluation step. Tags: status, and the reason when not ok.
"""
from __future__ import annotations

import os

import mlflow

import tlarena
from tlarena.reporters import curve, metrics, params, run_name

EXPERIMENT_ENV = "TLARENA_MLFLOW_EXPERIMENT"


@tlarena.hookimpl
def run_finished(record):
    client = mlflow.MlflowClient()
    name = os.environ.get(EXPERIMENT_ENV, "tlarena")
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    tags = {"tlarena.status": record.status, "tlarena.key": record.key}
    if record.reason:
        tags["tlarena.reason"] = record.reason[:5000]
    run = client.create_run(experiment_id, run_name=run_name(record), tags=tags)
    run_id = run.info.run_id
    for key, value in params(record).items():
        client.log_param(run_id, key, value)
    for key, value in metrics(record).items():
        client.log_metric(run_id, key, value)
    for step, values in curve(record):
        for key, value in values.items():
            client.log_metric(run_id, key, value, step=step)
    client.set_terminated(run_id, "FINISHED" if record.status in ("ok", "n/a") else "FAILED")
