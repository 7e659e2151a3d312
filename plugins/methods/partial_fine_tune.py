"""Partial fine-tuning: the first stages of the source model frozen, the last k fine-tuned."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting
from tlarena.parameter_transfer import last_stages, train_only


class PartialFineTune(tlarena.TransferMethod):
    """Fine-tune the last ``k`` stages of the source model (and what follows them: neck, head);
    the stages before them keep the source weights.

    Paper: Yosinski et al., "How transferable are features in deep neural networks?", NeurIPS 2014,
    the "AnB+" networks: the first n layers copied from the source network, the rest trained on the
    target task; with θ = (θ_frozen, θ_k),
        L = CE(f_{θ_frozen⁰, θ_k}(x_t), y_t),   minimized over θ_k.
    A stage is one of timm's ``feature_info`` modules (ResNet: layer1 … layer4) or, for a backbone
    without them, one convolution or linear layer (LeNet: conv1, conv2, fc). Default k = 1: the last
    stage. Deviations: the paper fine-tunes all copied layers in AnB+ and freezes them in AnB; this
    is the freezing version with the cut counted from the top, as fine-tuning practice does; one
    learning rate for every trained layer. Frozen stages still run in train mode (dropout, batch-norm
    statistics), as in fine-tuning.
    """

    name = "partial-fine-tune"
    family = "parameter transfer"
    paper = "Yosinski et al., 'How transferable are features in deep neural networks?', NeurIPS 2014"
    settings = frozenset({Setting.FEW_SHOT, Setting.SUPERVISED, Setting.TASK})
    init = "source"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "stages": 1}
    search_space = {"lr": ("log", 1e-4, 0.1), "stages": [1, 2, 3]}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        train_only(network, last_stages(network, int(hparams["stages"])))

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.target
        return F.cross_entropy(self.network(images), labels)
