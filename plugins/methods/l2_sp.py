"""L2-SP: fine-tuning with the weights pulled back toward the source model's."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting
from tlarena.parameter_transfer import StartingPoint


class L2SP(tlarena.TransferMethod):
    """Fine-tuning regularized toward the starting point instead of toward zero.

    Paper: Li, Grandvalet & Davoine, "Explicit Inductive Bias for Transfer Learning with
    Convolutional Networks", ICML 2018, eq. 3:
        L = CE(f_w(x_t), y_t) + α/2 · ||w_S − w⁰_S||² + β/2 · ||w_S̄||²,
    w_S the parameters copied from the source model (w⁰_S their source values), w_S̄ the new ones
    (a fresh head, in the ``task`` setting). Where the source head is kept (same classes) it is part
    of w_S. The β term is weight decay on the new parameters; the copied ones get no plain weight
    decay, as in the paper. Defaults α = 0.01, β = 0.01 (the paper selects both per task by
    cross-validation; these are not its tuned values).
    Deviations: SGD with the harness's schedule (the paper: SGD with momentum and step decay).
    """

    name = "l2-sp"
    family = "parameter transfer"
    paper = "Li et al., 'Explicit Inductive Bias for Transfer Learning with Convolutional Networks', ICML 2018"
    settings = frozenset({Setting.FEW_SHOT, Setting.SUPERVISED, Setting.TASK})
    init = "source"
    hparams = {"lr": 0.01, "alpha": 0.01, "beta": 0.01}
    search_space = {"lr": ("log", 1e-4, 0.1), "alpha": ("log", 1e-3, 1.0), "beta": ("log", 1e-3, 1.0)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        fresh_head = network.source_classes is None
        new = {id(p) for p in network.head.parameters()} if fresh_head else set()
        self.new = [p for p in network.parameters() if id(p) in new]
        self.starting_point = StartingPoint({name: p for name, p in network.named_parameters() if id(p) not in new})

    def parameter_groups(self) -> list[dict]:
        copied = list(self.starting_point.parameters_.values())
        return [{"params": copied, "weight_decay": 0.0}, {"params": self.new, "weight_decay": self.hp["beta"]}]

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.target
        return F.cross_entropy(self.network(images), labels) + self.hp["alpha"] / 2 * self.starting_point()
