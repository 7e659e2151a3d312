"""Deep CORAL: source and target feature covariances aligned."""
import torch

import tlarena
from tlarena.adaptation import AdaptationMethod, coral, forward_source_and_target


class DeepCORAL(AdaptationMethod):
    """Deep correlation alignment.

    Paper: Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation", ECCV 2016
    workshops, eq. 1–3:
        L = CE(x_s, y_s) + λ · ‖C_S − C_T‖²_F / (4 d²),
    C_S, C_T the covariances of the d-dimensional source and target features of a batch. The paper
    puts the loss on the last layer (fc8, the logits); we put it on the features before the head,
    where the other alignment methods here work, and say so: a deviation. Paper defaults: λ chosen
    so the two losses are about equal at the end of training (λ = 1 in the public implementations).
    Deviations: the feature layer above; starts from the shared source model; the harness's
    learning-rate schedule. Registered as ``coral`` (DomainBed's name for it).
    """

    name = "coral"
    paper = "Sun & Saenko, 'Deep CORAL: Correlation Alignment for Deep Domain Adaptation', ECCV-W 2016"
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "trade_off": 1.0}
    search_space = {"lr": ("log", 1e-3, 0.05), "trade_off": ("log", 0.1, 10.0)}

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        out = forward_source_and_target(self.network, batch)
        return out.classification + self.hp["trade_off"] * coral(out.source_features, out.target_features)
