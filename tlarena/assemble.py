"""Record assembly: a finished run's metrics, selection scores, cost and data provenance, as a RunRecord."""
from __future__ import annotations

from tlarena.backbones import count_parameters
from tlarena.methods import TransferMethod
from tlarena.metrics import convergence
from tlarena.partition import Parts
from tlarena.records import Cost, DataPart, Metrics, RunRecord, SharedCost, Validation
from tlarena.selection import information_maximization, soft_neighborhood_density, validator_rows
from tlarena.spec import RunSpec
from tlarena.trainer import Trainer, TrainOutcome


def provenance(parts: Parts) -> list[DataPart]:
    """Each decoded part the run used, by its size and fingerprint."""
    return [DataPart(side, part, len(tensors), tensors.fingerprint)
            for (side, part), tensors in parts.named().items()]


def validation(trainer: Trainer, method: TransferMethod, parts: Parts,
               shared_label_space: bool) -> tuple[Validation, float]:
    """Every selection rule's score of the trained method, and the seconds they took."""
    started = trainer.clock.now()
    probabilities = trainer.probabilities(method, parts.target_pool, validator_rows(len(parts.target_pool)))
    scores = Validation(
        source_val_top1=trainer.evaluate(method, parts.source_val)[0] if shared_label_space else None,
        target_val_top1=trainer.evaluate(method, parts.target_val)[0] if parts.target_val is not None else None,
        im=information_maximization(probabilities),
        snd=soft_neighborhood_density(probabilities))
    return scores, trainer.clock.now() - started


def record(spec: RunSpec, method: TransferMethod, outcome: TrainOutcome, trainer: Trainer, parts: Parts,
           shared_label_space: bool, shared_cost: SharedCost | None) -> RunRecord:
    """The run's record: diverged, or ok with its metrics, selection scores and cost."""
    common = dict(curve=outcome.curve, shared_cost=shared_cost, data=provenance(parts))
    if outcome.diverged_at is not None:
        return RunRecord(spec, "diverged", f"non-finite loss by step {outcome.diverged_at}", **common)
    scores, validation_seconds = validation(trainer, method, parts, shared_label_space)
    cost = Cost(
        train_seconds=outcome.train_seconds,
        eval_seconds=outcome.eval_seconds + validation_seconds,
        throughput=outcome.samples / outcome.train_seconds if outcome.train_seconds else None,
        train_flops=outcome.train_flops, eval_flops=outcome.eval_flops,
        peak_memory_bytes=outcome.peak_memory_bytes, peak_memory_kind=outcome.peak_memory_kind,
        trainable_params=outcome.trainable_params, total_params=count_parameters(method)[1],
        steps=outcome.steps, samples=outcome.samples)
    final = outcome.curve[-1]
    metrics = Metrics(final.top1, final.mean_class_acc, **convergence(outcome.curve))
    return RunRecord(spec, "ok", metrics=metrics, validation=scores, cost=cost, **common)
