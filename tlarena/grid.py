"""The grid: every (method × pair × setting × hyperparameter draw × seed) as a RunSpec.

A spec holds only what decides its run: ``shots`` outside few-shot and ``source_steps`` for a
method that does not start from the source model are None, and ``steps`` is 0 in test-time (the
test stream bounds the online pass), so they never split a cell.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping

from tlarena.backbones import Backbone, create_model
from tlarena.methods import TransferMethod, sample_hparams
from tlarena.pairs import DomainPair, MultiSource
from tlarena.partition import evaluation_for
from tlarena.plugins import Arena
from tlarena.settings import Setting, settings_for
from tlarena.spec import Budget, RunSpec


def pair_settings(pair: DomainPair) -> tuple[Setting, ...]:
    """The settings that apply to a pair (``settings.VISIBILITY`` decides)."""
    return settings_for(pair.shared_label_space, isinstance(pair.source, MultiSource))


def incompatibility(method: type[TransferMethod], pair: DomainPair, setting: Setting,
                    backbone: Backbone | None = None) -> str | None:
    """Why (method, pair, setting) cannot run, on ``backbone`` when given, or None when it can."""
    if setting not in pair_settings(pair):
        if setting.sees.multi_source and pair.shared_label_space:
            return f"{pair.name} has one source domain, so setting {setting.value} does not apply"
        kind = "shares" if pair.shared_label_space else "does not share"
        return f"{pair.name} {kind} the source's label space, so setting {setting.value} does not apply"
    if setting not in method.settings:
        allowed = ", ".join(sorted(s.value for s in method.settings))
        why = " (the target's label space differs from the source's)" if setting is Setting.TASK else ""
        return f"{method.name} runs only in {allowed}, not in {setting.value}{why}"
    if backbone is not None and method.requires_layers:
        return missing_layers(method, backbone, len(pair.source.classes))
    return None


def missing_layers(method: type[TransferMethod], backbone: Backbone, classes: int) -> str | None:
    """Why ``backbone`` cannot host ``method``: it has none of the layers the method adapts."""
    architecture = create_model(backbone.model, classes)   # random weights: only the layers matter
    if any(isinstance(module, method.requires_layers) for module in architecture.modules()):
        return None
    kinds = " or ".join(kind.__name__.lstrip("_") for kind in method.requires_layers)
    return f"{method.name} adapts {kinds} layers and backbone {backbone.name} has none"


def hparam_configs(method: type[TransferMethod], samples: int,
                   overrides: Mapping[str, object]) -> list[tuple[int, dict]]:
    """(hparams seed, values) for each configuration: the defaults, then seeded draws from the
    method's search space; ``overrides`` (``--hp``) are set on every one. Repeats are dropped."""
    configs, seen = [], set()
    for hparams_seed in range(samples if method.search_space else 1):
        values = {**sample_hparams(method, hparams_seed), **overrides}
        frozen = tuple(sorted(values.items()))
        if frozen not in seen:
            seen.add(frozen)
            configs.append((hparams_seed, values))
    return configs


def grid(arena: Arena, methods: Iterable[str], pairs: Iterable[str], backbone: str, weights: str,
         seeds: Iterable[int], budget: Budget, settings: Iterable[Setting] | None = None,
         hparam_samples: int = 1, overrides: Mapping[str, Mapping[str, object]] | None = None,
         transductive_uda: bool = True) -> list[RunSpec]:
    """Every spec of the grid, n/a cells included (they are recorded with their reason)."""
    wanted = set(settings) if settings is not None else set(Setting)
    overrides = overrides or {}
    specs = []
    for pair_name in pairs:
        pair = arena.pairs.get(pair_name)
        for setting in pair_settings(pair):
            if setting not in wanted:
                continue
            evaluation = evaluation_for(pair.target, setting.target_labels != "none", transductive_uda)
            for method_name in methods:
                method = arena.methods.get(method_name)
                run_budget = dataclasses.replace(
                    budget, shots=budget.shots if setting is Setting.FEW_SHOT else None,
                    steps=0 if setting.sees.online else budget.steps,   # the test stream bounds it
                    source_steps=budget.source_steps if method.init == "source" else None)
                for hparams_seed, values in hparam_configs(method, hparam_samples,
                                                           overrides.get(method_name, {})):
                    for seed in seeds:
                        specs.append(RunSpec(
                            method_name, pair_name, backbone, weights, setting.value, seed, run_budget,
                            tuple(sorted(values.items())), hparams_seed, evaluation.value,
                            pair.source.reference(), pair.target.reference()))
    return specs
