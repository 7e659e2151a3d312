"""Model selection: the rules that pick one hyperparameter configuration per trial seed.

Gulrajani & Lopez-Paz ("In Search of Lost Domain Generalization", ICLR 2021) showed that how a
configuration is chosen decides a leaderboard as much as the method does, so every aggregated number
names its rule. Each run records every rule's score at the end of its budget; aggregation picks,
per (cell, trial seed), the configuration with the best score, and reports its target test accuracy.

- ``source-val``: accuracy on the held-out 20 % of the labeled source (DomainBed's training-domain
  validation). Needs the source's label space.
- ``target-val``: accuracy on the held-out part of the target labels the setting reveals
  (few-shot: a part of the k shots; supervised and task: 20 % of the labels).
- ``im``: information maximization on unlabeled target images, H(E[p]) − E[H(p)]: confident and
  class-balanced predictions score high.
- ``snd``: soft neighborhood density (Saito et al., "Tune it the Right Way: Unsupervised Validation
  of Domain Adaptation via Soft Neighborhood Density", ICCV 2021): the entropy of each target
  prediction's softmax-weighted similarity to the others (temperature 0.05); dense clusters score
  high. IM and SND are among the validators Musgrave et al. benchmark ("Three New Validators and a
  Large-Scale Benchmark Ranking for Unsupervised Domain Adaptation", 2022).
- ``oracle``: the target test accuracy itself. An upper bound on what selection can do, never a
  result: shown only under this name.

Deviation: SND is computed on softmax outputs of at most ``VALIDATOR_IMAGES`` target images (a
fixed subset), not on every target image, to keep its n² similarity matrix small.

Guard: a score of unlabeled target images alone can rank a collapsed model first. SND does: a model
that predicts one class for every image has the densest neighbourhoods of all. So ``im`` and
``snd`` choose only among the runs that kept their source task, whose source validation accuracy
is at least ``SOURCE_KEPT`` of the best one's among the configurations they choose from. Neither
paper has this guard; it leaves every run with a working source classifier in the running.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:   # the scores take tensors; the rule names are read by `tlarena show`, without torch
    import torch

VALIDATOR_IMAGES = 2000
SND_TEMPERATURE = 0.05

RULES = ("source-val", "target-val", "im", "snd", "oracle")
UNLABELED_TARGET_RULES = ("im", "snd")
SOURCE_KEPT = 0.5      # of the best source validation accuracy among the configurations compared
DEFAULT = "default"     # source-val where the target shares the source's labels, else target-val


def information_maximization(probabilities: torch.Tensor) -> float:
    """H(mean prediction) − mean H(prediction), in nats; higher is better."""
    p = probabilities.double().clamp_min(1e-12)
    marginal = p.mean(0)
    return float(-(marginal * marginal.log()).sum() + (p * p.log()).sum(1).mean())


def soft_neighborhood_density(probabilities: torch.Tensor) -> float:
    """Mean entropy of each row of softmax(similarity / τ), self-similarity excluded; higher is better."""
    import torch

    p = torch.nn.functional.normalize(probabilities.double(), dim=1)
    similarity = p @ p.T / SND_TEMPERATURE
    similarity.fill_diagonal_(float("-inf"))
    neighbours = similarity.softmax(1)
    return float(-(neighbours * neighbours.clamp_min(1e-12).log()).sum(1).mean())


def resolve(rule: str, shared_label_space: bool) -> str:
    """The rule a view uses for a cell: ``default`` becomes the honest rule that applies there."""
    if rule != DEFAULT:
        return rule
    return "source-val" if shared_label_space else "target-val"


def validator_rows(count: int, limit: int = VALIDATOR_IMAGES) -> np.ndarray:
    """A fixed, evenly spread subset of rows for the unsupervised validators."""
    if count <= limit:
        return np.arange(count)
    return np.linspace(0, count - 1, limit).round().astype(np.int64)
