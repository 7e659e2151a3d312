"""Task fusion: multi-task learning of the source and the target task on one shared network."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena.task_transfer import SourceAndTargetHeads


class TaskFusion(SourceAndTargetHeads):
    """Multi-task learning: the source model's features shared by two heads, the source head kept for
    the source task and a new head for the target task, both tasks learned together.

    Paper: Caruana, "Multitask Learning", Machine Learning 28(1), 1997: one network with a hidden
    representation shared by every task and an output per task, trained by backpropagation on the
    sum of the tasks' errors. With f the shared features, h_s the source head, h_t the new target
    head, each step takes a source batch (x_s, y_s) and a target batch (x_t, y_t):
        L = CE(h_s(f(x_s)), y_s) + λ · CE(h_t(f(x_t)), y_t),
    λ = 1 (the paper weights the tasks equally). Both batches go through the network as one batch.
    Deviations: the paper trains the shared network from random weights on all tasks at once; here it
    starts from the source model (and its head), as task transfer does, so the source task is learned
    already when the target task joins. Cross-entropy instead of the paper's squared error; the
    harness's SGD schedule instead of the paper's per-task early stopping.
    """

    name = "task-fusion"
    paper = "Caruana, 'Multitask Learning', Machine Learning 28(1), 1997"
    uses_source_data = True
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "target_weight": 1.0}
    search_space = {"lr": ("log", 1e-4, 0.1), "target_weight": ("log", 0.1, 10.0)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        (source_images, source_labels), (target_images, target_labels) = batch.source, batch.target
        source_logits, target_logits = self.heads(torch.cat([source_images, target_images]))
        n = len(source_images)
        return (F.cross_entropy(source_logits[:n], source_labels)
                + self.hp["target_weight"] * F.cross_entropy(target_logits[n:], target_labels))
