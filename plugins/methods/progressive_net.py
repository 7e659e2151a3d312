"""Progressive neural networks: a new column for the target task, laterally fed by the frozen source."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting
from tlarena.task_transfer import Laterals


class ProgressiveNet(tlarena.TransferMethod):
    """The source model kept frozen as the first column; a second column of the same architecture,
    from random weights, learns the target task, fed at every stage by the first column's output.

    Paper: Rusu et al., "Progressive Neural Networks", arXiv 1606.04671, 2016, eq. 1: the layer i of
    column k takes the previous layer of its own column and, through lateral connections U, the
    previous layer of every earlier column j < k, whose parameters are frozen:
        h_i^(k) = f(W_i^(k) h_{i−1}^(k) + Σ_{j<k} U_i^(k:j) h_{i−1}^(j)).
    Here k = 2 (the source column, then the target column), L = CE(column 2's logits, y_t), and only
    column 2 and the U train. A layer is a stage (``parameter_transfer.stages``: timm's
    ``feature_info`` modules, e.g. ResNet's layer1 … layer4, else each convolution or linear layer:
    LeNet's conv1, conv2, fc), each lateral a linear map over channels (1 × 1 convolution on
    feature maps), zero at the start.
    Deviations: a lateral adds the source column's stage i output to the target column's stage i
    output (so it enters the target's layer i + 1 through that stage's non-linearity), instead of
    h_{i−1}^(1) into layer i; laterals at stage boundaries only, not at every layer of a ResNet stage;
    no non-linear adapter (the paper's α-scaled, dimension-reducing MLP, eq. 2), and no lateral into
    the head. The target column starts from each layer's PyTorch default initialization
    (``reset_parameters``) rather than timm's own; a layer without one keeps the source weights.
    The source column runs in evaluation mode (its batch-norm statistics are frozen too). The
    paper's experiments are reinforcement learning (A3C); it gives no supervised defaults.
    """

    name = "progressive-net"
    family = "task transfer"
    paper = "Rusu et al., 'Progressive Neural Networks', arXiv 1606.04671, 2016"
    settings = frozenset({Setting.TASK})
    init = "source"
    hparams = {"lr": 0.05, "weight_decay": 5e-4}   # a column from random weights: scratch's rate
    search_space = {"lr": ("log", 1e-3, 0.3)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        # The source column is a frozen copy of the source model; the network becomes the new column.
        self.laterals = Laterals(source=network.model, target=network.model)
        for module in network.model.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.target
        return F.cross_entropy(self.laterals(images), labels)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.laterals(x)
