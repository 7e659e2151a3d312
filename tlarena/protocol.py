"""The protocol version: what a number means. Bump ``PROTOCOL`` whenever what decides one changes.

A run's key hashes its spec, and the spec carries ``PROTOCOL``: after a bump no old record matches a
new key, ``tlarena show`` keeps old records out of every cell, and ``results/`` is regenerated.

``FINGERPRINT`` pins the code and constants that decide a number (trainer, schedule, optimizer,
splits, preprocessing, augmentation, what each setting lets a method see, model construction,
selection scores, source-model recipe, record assembly, default budget). A test
compares it with ``fingerprint()``: a change to any of them fails until the protocol is bumped (or,
for a change that provably moves no number, the fingerprint re-pinned) — a visible decision in review.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
import json
import textwrap

PROTOCOL = 4
FINGERPRINT = "6de5b6db4e5460a1"


def decisive() -> dict[str, object]:
    """Everything that decides a number, by name: functions and classes by their code, constants
    by their value."""
    from tlarena import (assemble, metrics, models, optimizers, partition, runner, selection, settings,
                         source_models, spec, streams, trainer)
    from tlarena.data import augment, stream, tensors

    return {
        "optimizers": optimizers,
        "trainer.eval_schedule": trainer.eval_schedule,
        "trainer.Normalizer": trainer.Normalizer,
        "trainer.Trainer": trainer.Trainer,
        "trainer.CLIP_NORM": trainer.CLIP_NORM,
        "data.decode": tensors._decode_to,
        "data.BatchStream": stream.BatchStream,
        "augment": augment,
        "partition": partition,
        "selection": selection,
        "metrics": metrics,
        "source_models.SOURCE_HPARAMS": source_models.SOURCE_HPARAMS,
        "source_models.SourceTraining": source_models.SourceTraining,
        "source_models.SourceModels": source_models.SourceModels,
        "settings.VISIBILITY": {s.value: vars(v) for s, v in settings.VISIBILITY.items()},
        "models.seed_everything": models.seed_everything,
        "models.build_method": models.build_method,
        "streams.training_streams": streams.training_streams,
        "assemble": assemble,
        "runner.Runner": runner.Runner,
        "spec.Budget": spec.Budget(),
    }


def fingerprint() -> str:
    """A hash of ``decisive()``: code without comments and docstrings, values as JSON or repr."""
    parts = {name: _canonical(thing) for name, thing in decisive().items()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _canonical(thing: object) -> str:
    if inspect.ismodule(thing) or inspect.isclass(thing) or inspect.isfunction(thing):
        tree = ast.parse(textwrap.dedent(inspect.getsource(thing)))
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
        return ast.unparse(tree)
    try:
        return json.dumps(thing, sort_keys=True)
    except TypeError:
        return repr(thing)
