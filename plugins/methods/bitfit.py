"""BitFit: only the biases of the source model, and the head, train on target labels."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting
from tlarena.parameter_transfer import bias_parameters, train_only


class BitFit(tlarena.TransferMethod):
    """Bias-only fine-tuning: every weight of the source model stays fixed; its bias terms and the
    classification head learn.

    Paper: Ben Zaken, Ravfogel & Goldberg, "BitFit: Simple Parameter-efficient Fine-tuning for
    Transformer-based Masked Language-models", ACL 2022, section 2: of the parameters θ = (W, b),
    only the biases b (and the task's classifier) are updated,
        L = CE(h_{W⁰, b}(x_t), y_t),   minimized over b and the head, W = W⁰ fixed.
    Deviations: the paper tunes BERT's biases with Adam; here any backbone's biases (convolutions,
    linear layers, and normalization shifts, all named ``bias``) train with the harness's SGD and
    schedule at a higher rate (0.05), since far fewer parameters move. Dropout and batch-norm
    statistics behave as in fine-tuning (train mode).
    """

    name = "bitfit"
    family = "parameter transfer"
    paper = "Ben Zaken et al., 'BitFit: Simple Parameter-efficient Fine-tuning ...', ACL 2022"
    settings = frozenset({Setting.FEW_SHOT, Setting.SUPERVISED, Setting.TASK})
    init = "source"
    hparams = {"lr": 0.05, "weight_decay": 0.0}
    search_space = {"lr": ("log", 1e-3, 0.3)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        train_only(network, bias_parameters(network))

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.target
        return F.cross_entropy(self.network(images), labels)
