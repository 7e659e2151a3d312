"""TrAdaBoost: boosting over source ∪ labeled target that fades out the source examples it gets wrong."""
import copy
import math

import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting
from tlarena.feature_transfer import FrozenFeatureMethod
from tlarena.instance_transfer import (fill_source_table, round_beta, tradaboost_beta, tradaboost_update,
                                       weighted_vote)


class TrAdaBoost(FrozenFeatureMethod):
    """Transfer boosting on the source model's frozen features.

    Paper: Dai, Yang, Xue & Yu, "Boosting for Transfer Learning", ICML 2007, Algorithm 1. Each round
    t = 1..N trains a learner h_t on source (n rows) ∪ labeled target with the weights w^t, then
        ε_t = Σ_T w_i [h_t(x_i) ≠ y_i] / Σ_T w_i,   β_t = ε_t / (1 − ε_t),   β = 1 / (1 + √(2 ln n / N)),
        w_i ← w_i β^[h_t(x_i) ≠ y_i] (source),   w_i ← w_i β_t^−[h_t(x_i) ≠ y_i] (target),
    and predicts h_f(x) = argmax_c Σ_{t=⌈N/2⌉}^{N} ln(1/β_t) [h_t(x) = c].
    Paper defaults: any learner that accepts weights; uniform initial weights are one choice of the
    paper's arbitrary w^1 (taken here); N a parameter (here 10 rounds).
    How it fits the contract: it trains, because the labeled target reaches a method only through
    its batches (a phase sees target images without labels). The budget is cut into N rounds of
    ⌈steps / N⌉ steps; in a round each step is an SGD step (the harness's optimizer and schedule) of
    the learner, a linear softmax head on the frozen features, on the weighted cross-entropy
        L = (n_s · mean_S(w ℓ) + n_t · mean_T(w ℓ)) / Σ w,
    an unbiased estimate, from one source and one target batch, of Σ_i w_i ℓ_i / Σ w. At the first
    step of the next round the head's errors over the whole source and every labeled target row seen
    so far update the weights and the head is kept as h_t.
    Deviations: multi-class (the paper: two classes, its vote the binary form of the argmax above);
    ε_t kept in [0.001, 0.499] (the paper requires ε_t < 1/2); h_t starts from h_{t−1} (h_1 from the
    source head) instead of from scratch, since a fresh head in the last rounds would get only the
    schedule's last, near-zero rates; the learner is a softmax head trained by SGD, not an SVM; the
    last round's head (and while training, the round in progress) votes with its current β_t; n_t
    counts the labeled target rows seen so far. Before step 1 it predicts with the source model.
    """

    name = "tradaboost"
    family = "instance transfer"
    paper = "Dai, Yang, Xue & Yu, 'Boosting for Transfer Learning', ICML 2007"
    settings = frozenset({Setting.FEW_SHOT, Setting.SUPERVISED})
    uses_source_data = True
    phase_sees_source = True
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "rounds": 10}
    search_space = {"lr": ("log", 1e-3, 0.05), "rounds": [5, 10, 20]}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        network.head.requires_grad_(True)
        for name in ("source_weights", "target_weights"):
            self.register_buffer(name, torch.ones(0))
        for name in ("source_labels", "target_labels"):
            self.register_buffer(name, torch.zeros(0, dtype=torch.long))
        self.rounds: list[tuple[torch.nn.Module, float]] = []   # (h_t, β_t) of the finished rounds

    def phase(self, target: tlarena.TargetImages, source: tlarena.SourceImages) -> None:
        self.source_weights = torch.ones(len(fill_source_table(self, source)), device=self.source_labels.device)

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        length = math.ceil(self.progress.steps / self.hp["rounds"])
        if self.progress.step > 1 and (self.progress.step - 1) % length == 0:
            self._end_round()
        self._remember(batch.rows["target"], batch.target[1])
        source, source_labels = self.labeled_features(batch, "source")
        target, target_labels = self.labeled_features(batch, "target")
        source_w = self.source_weights[batch.rows["source"].to(self.source_weights.device)]
        target_w = self.target_weights[batch.rows["target"].to(self.target_weights.device)]
        known = self.target_labels >= 0
        total = self.source_weights.sum() + self.target_weights[known].sum()
        source_loss = (source_w * F.cross_entropy(self.network.head(source), source_labels, reduction="none")).mean()
        target_loss = (target_w * F.cross_entropy(self.network.head(target), target_labels, reduction="none")).mean()
        return (len(self.source_weights) * source_loss + int(known.sum()) * target_loss) / total

    def _remember(self, rows: torch.Tensor, labels: torch.Tensor) -> None:
        """The labels of the target rows seen so far (−1: not yet), each new row with weight 1."""
        size = int(rows.max()) + 1
        if size > len(self.target_labels):
            grow = size - len(self.target_labels)
            self.target_labels = torch.cat([self.target_labels, self.target_labels.new_full((grow,), -1)])
            self.target_weights = torch.cat([self.target_weights, self.target_weights.new_ones(grow)])
        self.target_labels[rows.to(self.target_labels.device)] = labels.to(self.target_labels.device)

    @torch.no_grad()
    def _target_wrong(self, head: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """Which of the target rows seen so far ``head`` misclassifies, and those rows."""
        seen = torch.nonzero(self.target_labels >= 0).squeeze(1)
        features = self.tables["target"].values[seen.to(self.tables["target"].values.device)]
        return head(features.float()).argmax(1) != self.target_labels[seen], seen

    @torch.no_grad()
    def _end_round(self) -> None:
        head = self.network.head
        source_wrong = head(self.tables["source"].values.float()).argmax(1) != self.source_labels
        target_wrong, seen = self._target_wrong(head)
        beta = tradaboost_beta(len(self.source_weights), self.hp["rounds"])
        self.source_weights, target_weights, beta_t = tradaboost_update(
            self.source_weights, source_wrong, self.target_weights[seen], target_wrong, beta)
        self.target_weights[seen] = target_weights
        self.rounds.append((copy.deepcopy(head).requires_grad_(False), beta_t))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.target_labels >= 0).any():
            return self.network(x)
        target_wrong, seen = self._target_wrong(self.network.head)
        rounds = self.rounds + [(self.network.head, round_beta(self.target_weights[seen], target_wrong))]
        voting = rounds[(len(rounds) - 1) // 2:]                  # t = ⌈N/2⌉ .. N
        features = self.frozen_features(x).float()
        predictions = torch.stack([head(features).argmax(1) for head, _ in voting])
        return weighted_vote(predictions, [beta_t for _, beta_t in voting], self.num_classes)
