"""LP-FT: a linear probe on the frozen source features first, then fine-tuning of everything."""
import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting
from tlarena.parameter_transfer import frozen_features


class LPFT(tlarena.TransferMethod):
    """Linear probing, then full fine-tuning from the probed head.

    Paper: Kumar et al., "Fine-Tuning can Distort Pretrained Features and Underperform
    Out-of-Distribution", ICLR 2022, section 4: first fit the head v on frozen features,
        v_lp = argmin_v CE(v · g_{B⁰}(x_t), y_t),
    then fine-tune every parameter starting from (B⁰, v_lp),
        L = CE(v · g_B(x_t), y_t).
    The probe takes the first ``probe_fraction`` of the steps (default ½), on features of the source
    model in evaluation mode; the rest fine-tune the whole network.
    Deviations: the paper fits the probe to convergence by L-BFGS logistic regression and then
    fine-tunes with a smaller rate; here both stages share one budget and the harness's SGD schedule,
    whose cosine decay gives the fine-tuning stage the lower rates. Where the source head is kept
    (same classes), the probe starts from it.
    """

    name = "lp-ft"
    family = "parameter transfer"
    paper = "Kumar et al., 'Fine-Tuning can Distort Pretrained Features and Underperform OOD', ICLR 2022"
    settings = frozenset({Setting.FEW_SHOT, Setting.SUPERVISED, Setting.TASK})
    init = "source"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "probe_fraction": 0.5}
    search_space = {"lr": ("log", 1e-4, 0.1), "probe_fraction": ("uniform", 0.25, 0.75)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        images, labels = batch.target
        if self.progress.p <= self.hp["probe_fraction"]:
            return F.cross_entropy(self.network.head(frozen_features(self.network, images)), labels)
        return F.cross_entropy(self.network(images), labels)
